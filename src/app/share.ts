// Share links in the page: a finished run as a link's payload, the page's own address, and what
// the fragment a page was opened with asks for. Pure functions of their arguments (no store, no
// DOM): the intents that act on them are in shareController.ts.
import type { CompressReport } from '../core/compress';
import { decodeShareToken, LAB_VERSION, SHARE_LINK_VERSION, SHARE_PARAM, type Reproduction, type SharedResult, type SharedView, type SharePayload } from '../core/experiments';
import { useLab, type RunRecord } from './store';

/** The link the page was opened with, and what became of it here. */
export interface SharedState {
  payload: SharePayload;
  /**
   * The link's model in this page: being loaded, waiting for the user's file, its hash being
   * checked, loaded (Reproduce may run), or not available here (`message` says why).
   */
  model: 'loading' | 'waiting-file' | 'checking' | 'ready' | 'unavailable';
  /** Why the model is not ready: a file whose hash differs, a bundled model this lab lacks. */
  message?: string;
  reproduce?: { status: 'running' } | { status: 'done'; outcome: Reproduction } | { status: 'failed'; message: string };
}

/** Where a run's layer jobs ran: 'webgpu' if any part of it did (its hash may then differ within the GPU bound). */
export function computeOf(report: CompressReport): 'cpu' | 'webgpu' {
  const uses = [...report.layers.map((l) => l.backend), ...report.quantized.map((q) => q.backend), ...(report.backends.hessian ? [report.backends.hessian] : [])];
  return uses.some((use) => use.ran !== 'cpu') ? 'webgpu' : 'cpu';
}

/** Analytic bits per weight over the quantized layers, weighted by their size (as the Overview shows it). */
function bitsPerWeight(report: CompressReport): number | undefined {
  if (report.quantized.length === 0) return undefined;
  const weights = report.quantized.reduce((sum, q) => sum + q.shape[0] * q.shape[1], 0);
  return report.quantized.reduce((sum, q) => sum + q.bitsPerWeight * q.shape[0] * q.shape[1], 0) / weights;
}

/** A finished run's numbers as a link carries them, or why it cannot be shared. */
export function sharedResultOf(run: RunRecord): { ok: true; result: SharedResult } | { ok: false; reason: string } {
  const report = run.report;
  const metrics = run.evaluation?.status === 'done' ? run.evaluation.metrics : undefined;
  const dense = run.dense.metrics;
  if (run.status !== 'done' || !report || !metrics || !dense) return { ok: false, reason: `run ${run.number} has not finished with metrics` };
  if (run.dense.sizeBytes === undefined) return { ok: false, reason: `run ${run.number} does not know its dense model's size` };
  // A link's schema carries perplexity or top-1; masked-token accuracy would read as image top-1 there.
  if (dense.task === 'masked-lm') return { ok: false, reason: `run ${run.number} is measured by masked-token accuracy, which a share link cannot carry yet` };
  const metric = dense.task === 'causal-lm' ? 'perplexity' : 'top1';
  const value = metric === 'perplexity' && metrics.task === 'causal-lm' ? metrics.perplexity : metrics.top1;
  const denseValue = metric === 'perplexity' && dense.task === 'causal-lm' ? dense.perplexity : dense.top1;
  const bits = bitsPerWeight(report);
  return {
    ok: true,
    result: {
      metric,
      dense: denseValue,
      value,
      ...(run.interval ? { interval: { low: run.interval.low, high: run.interval.high } } : {}),
      sizeBytes: report.totals.denseFileBytes,
      denseSizeBytes: run.dense.sizeBytes,
      ...(bits === undefined ? {} : { bitsPerWeight: bits }),
      weightsSha256: report.weightsSha256,
      compute: computeOf(report),
      labVersion: LAB_VERSION,
    },
  };
}

/** The link of a finished run: its model (a bundled id, or a file's name and hash), recipe, the view and its numbers. */
export function sharePayloadOf(run: RunRecord, view: SharedView): { ok: true; payload: SharePayload } | { ok: false; reason: string } {
  const summary = sharedResultOf(run);
  if (!summary.ok) return summary;
  const source = run.model.source;
  if (source.kind === 'file' && !run.model.sha256) return { ok: false, reason: `run ${run.number}'s model file was not hashed, so a link could not check it` };
  const model = source.kind === 'bundled' ? { kind: 'bundled' as const, id: source.id } : { kind: 'file' as const, name: source.name, sha256: run.model.sha256! };
  return { ok: true, payload: { v: SHARE_LINK_VERSION, model, recipe: run.recipe, view, result: summary.result } };
}

/** The page's address a link starts with: origin and path, and ?backend= when the page has one. */
export function pageAddress(location: { origin: string; pathname: string; search: string }): string {
  const backend = new URLSearchParams(location.search).get('backend');
  return `${location.origin}${location.pathname}${backend ? `?backend=${encodeURIComponent(backend)}` : ''}`;
}

/** Longest tour id read from an address: ids are short words. */
const MAX_TOUR_ID = 64;

export type LinkOnOpen = { kind: 'none' } | { kind: 'share'; payload: SharePayload } | { kind: 'tour'; id: string } | { kind: 'error'; message: string };

/** What the fragment a page was opened with asks for: a share link, a tour, nothing, or a clear refusal. */
export function linkOnOpen(hash: string): LinkOnOpen {
  // The fragment's parts as they are: a stray '#' stays in the token, which the decoder refuses.
  const parts = hash.replace(/^#/, '').split('&');
  const share = parts.find((part) => part.startsWith(`${SHARE_PARAM}=`));
  if (share !== undefined) {
    const token = share.slice(SHARE_PARAM.length + 1);
    const decoded = decodeShareToken(token);
    return decoded.ok ? { kind: 'share', payload: decoded.payload } : { kind: 'error', message: decoded.message };
  }
  const tour = parts.find((part) => part.startsWith('tour='));
  if (tour === undefined) return { kind: 'none' };
  const id = tour.slice('tour='.length);
  // Tour ids are plain words; anything else is refused before it is shown or looked up.
  if (!/^[a-z0-9-]{1,64}$/.test(id)) return { kind: 'error', message: `This tour link cannot be opened: a tour's name is a short word of letters, digits and dashes (at most ${MAX_TOUR_ID}).` };
  return { kind: 'tour', id };
}

/** The link's recipe into the builder, its tab, layer and head into the detail view. */
export function applyRecipeAndView(payload: SharePayload): void {
  const { tab, layer, head } = payload.view;
  useLab.setState({ recipe: structuredClone(payload.recipe), refusal: undefined, ...(tab ? { detailTab: tab } : {}), ...(layer ? { viewLayer: layer } : {}), ...(head ? { viewHead: head } : {}) });
}
