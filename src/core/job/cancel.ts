// One cancellation error for every job (evaluation, calibration, a recipe's stages, the worker
// pool, the UI's pending job), so a catch anywhere needs one `instanceof`. `what` says which part
// noticed the request, for logs; the UI shows one message whatever it was.

export class Cancelled extends Error {
  override name = 'Cancelled';
  constructor(readonly what = 'job') {
    super(`${what} cancelled`);
  }
}

/** Checked between batches and jobs; an AbortSignal fits. */
export interface CancelSignal {
  readonly aborted: boolean;
}

export function throwIfCancelled(signal: CancelSignal | undefined, what: string): void {
  if (signal?.aborted) throw new Cancelled(what);
}
