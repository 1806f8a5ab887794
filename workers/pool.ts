// A pool of identical workers running independent jobs. Jobs queue in submission order and go to
// the first idle worker; cancel() rejects queued jobs and terminates busy workers (respawned on
// demand), so a cancel takes effect at once even mid-job. Results are matched by job id, so the
// caller can order them however it likes — the pipeline writes them back in layer order.
import { Cancelled } from '../src/core/job';

export interface PoolRequest {
  jobId: number;
}

export type PoolResponse<R> = { jobId: number; type: 'result'; result: R } | { jobId: number; type: 'error'; message: string };

interface Slot {
  worker: Worker;
  busyWith?: number;
}

interface Task<Q, R> {
  request: Q;
  transfer: Transferable[];
  resolve: (r: R) => void;
  reject: (e: Error) => void;
}

export class WorkerPool<Q extends PoolRequest, R> {
  private slots: Slot[] = [];
  private queue: Task<Q, R>[] = [];
  private running = new Map<number, Task<Q, R>>();

  constructor(
    private readonly spawn: () => Worker,
    readonly size: number,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`worker pool size must be a positive integer, not ${size}`);
  }

  run(request: Q, transfer: Transferable[] = []): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ request, transfer, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const slot = this.idleSlot();
      if (!slot) return;
      const task = this.queue.shift()!;
      slot.busyWith = task.request.jobId;
      this.running.set(task.request.jobId, task);
      slot.worker.postMessage(task.request, task.transfer);
    }
  }

  private idleSlot(): Slot | undefined {
    const idle = this.slots.find((s) => s.busyWith === undefined);
    if (idle || this.slots.length >= this.size) return idle;
    const slot: Slot = { worker: this.spawn() };
    slot.worker.onmessage = (e: MessageEvent<PoolResponse<R>>) => this.receive(slot, e.data);
    slot.worker.onerror = (e) => this.crash(slot, e.message || 'worker failed to start');
    this.slots.push(slot);
    return slot;
  }

  private receive(slot: Slot, msg: PoolResponse<R>): void {
    const task = this.running.get(msg.jobId);
    slot.busyWith = undefined;
    this.running.delete(msg.jobId);
    if (task) {
      if (msg.type === 'result') task.resolve(msg.result);
      else task.reject(new Error(msg.message));
    }
    this.pump();
  }

  private crash(slot: Slot, message: string): void {
    const task = slot.busyWith === undefined ? undefined : this.running.get(slot.busyWith);
    if (slot.busyWith !== undefined) this.running.delete(slot.busyWith);
    this.slots = this.slots.filter((s) => s !== slot);
    slot.worker.terminate();
    task?.reject(new Error(`A pool worker crashed: ${message}`));
    this.pump();
  }

  /** Rejects every queued and running job with Cancelled; busy workers are terminated. */
  cancel(): void {
    for (const task of [...this.queue, ...this.running.values()]) task.reject(new Cancelled('worker pool'));
    this.queue = [];
    this.running.clear();
    for (const slot of this.slots.filter((s) => s.busyWith !== undefined)) slot.worker.terminate();
    this.slots = this.slots.filter((s) => s.busyWith === undefined);
  }

  terminate(): void {
    this.cancel();
    for (const slot of this.slots) slot.worker.terminate();
    this.slots = [];
  }
}
