// Link intents: open the page from its address (a share link, a tour, or neither), apply a link's
// model, recipe and view, reproduce a shared run, check a user's file against a link's hash.
// Bad input leaves a message in the store and loses nothing: the default model loads as usual.
import { sha256Hex } from '../core/compress';
import { reproduction, type SharePayload } from '../core/experiments';
import { confirmModelChange, loadBundled, loadFiles, start } from './controller';
import { runRecipe } from './runController';
import { computeOf, linkOnOpen, type SharedState } from './share';
import { useLab } from './store';
import { findTour } from './tours';
import { applyRecipeAndView } from './share';

function patchShared(patch: Partial<SharedState>): void {
  useLab.setState((s) => (s.shared ? { shared: { ...s.shared, ...patch } } : {}));
}


function hasBundled(id: string): boolean {
  const source = useLab.getState().model.source;
  return source?.kind === 'bundled' && source.id === id && useLab.getState().model.status === 'ready';
}

/** Shows a share link's recorded result and puts its recipe and tab in place; its model loads next. */
function openShared(payload: SharePayload): void {
  applyRecipeAndView(payload);
  useLab.setState({ linkError: undefined, shared: { payload, model: payload.model.kind === 'file' ? 'waiting-file' : 'loading' } });
}

/** Once the page has tried to load a bundled link's model: ready, or why not. */
function settleBundled(payload: SharePayload): void {
  if (payload.model.kind !== 'bundled') return;
  if (hasBundled(payload.model.id)) patchShared({ model: 'ready' });
  else patchShared({ model: 'unavailable', message: `This lab has no bundled model “${payload.model.id}”, so the link’s recipe cannot be reproduced here; the default model loaded instead.` });
}

/** Starts the page from its address: `?model=` as before, then `#share=…` or `#tour=…` on top. */
export async function startFromAddress(queryModel: string | undefined, hash: string): Promise<void> {
  const link = linkOnOpen(hash);
  if (link.kind === 'error') useLab.setState({ linkError: link.message });
  if (link.kind === 'share') openShared(link.payload);
  // A user's model is asked for once the page is up; its evaluation set comes from the default bundled model.
  const sharedModel = link.kind === 'share' && link.payload.model.kind === 'bundled' ? link.payload.model.id : undefined;
  await start(sharedModel ?? queryModel);
  if (link.kind === 'share') settleBundled(link.payload);
  if (link.kind === 'tour') startTour(link.id);
}

/** A link pasted or clicked into a page already open (`hashchange`): the same as at start, without reloading. */
export async function openHash(hash: string): Promise<void> {
  const link = linkOnOpen(hash);
  if (link.kind === 'error') useLab.setState({ linkError: link.message });
  if (link.kind === 'tour') startTour(link.id);
  if (link.kind !== 'share') return;
  openShared(link.payload);
  await applyLink(link.payload);
  settleBundled(link.payload);
}

/** Applies a link (a tour step's): loads its bundled model if another is loaded, sets its recipe and tab. */
export async function applyLink(payload: SharePayload): Promise<void> {
  applyRecipeAndView(payload);
  if (payload.model.kind !== 'bundled' || hasBundled(payload.model.id)) return;
  if (!useLab.getState().bundledIds.includes(payload.model.id)) return;
  if (!confirmModelChange((q) => window.confirm(q))) return;
  await loadBundled(payload.model.id);
}

/** The run the shared recipe made: the one that was not in the list before. */
function newRunSince(before: Set<string>) {
  return useLab.getState().runs.find((r) => !before.has(r.id));
}

/**
 * Reruns the shared recipe on the loaded model and compares the weights hash with the link's. A
 * link whose run was on the CPU is rerun on the CPU, where the bytes are deterministic.
 */
export async function reproduceShared(): Promise<void> {
  const shared = useLab.getState().shared;
  if (!shared || shared.model !== 'ready' || shared.reproduce?.status === 'running') return;
  const { payload } = shared;
  const before = new Set(useLab.getState().runs.map((r) => r.id));
  useLab.setState((s) => ({ recipe: structuredClone(payload.recipe), computeBackend: payload.result?.compute === 'cpu' ? 'cpu' : s.computeBackend }));
  patchShared({ reproduce: { status: 'running' } });
  await runRecipe();
  const run = newRunSince(before);
  if (!run) return patchShared({ reproduce: { status: 'failed', message: `The recipe was refused: ${useLab.getState().refusal ?? 'no reason given'}` } });
  if (run.status !== 'done' || !run.report) return patchShared({ reproduce: { status: 'failed', message: `Run ${run.number} did not finish: ${run.message ?? run.status}` } });
  if (!payload.result) {
    const text = `ran the shared recipe (run ${run.number}, weights SHA-256 ${run.report.weightsSha256.slice(0, 16)}…); the link recorded no result to compare with`;
    return patchShared({ reproduce: { status: 'done', outcome: { match: false, ok: true, text } } });
  }
  patchShared({ reproduce: { status: 'done', outcome: reproduction(payload.result, run.report.weightsSha256, computeOf(run.report)) } });
}

/** A link made with the user's own model: the picked file's hash is checked before it is loaded. */
export async function checkSharedFile(files: File[]): Promise<void> {
  const shared = useLab.getState().shared;
  if (!shared || shared.payload.model.kind !== 'file') return;
  const expected = shared.payload.model;
  const file = files.find((f) => f.name.toLowerCase().endsWith('.onnx')) ?? files[0];
  if (!file) return;
  patchShared({ model: 'checking', message: undefined });
  let actual: string;
  try {
    actual = await sha256Hex(new Uint8Array(await file.arrayBuffer()));
  } catch (e) {
    return patchShared({ model: 'waiting-file', message: `${file.name} could not be read: ${(e as Error).message}` });
  }
  if (actual !== expected.sha256) {
    const message = `${file.name} has SHA-256 ${actual.slice(0, 12)}…, but the link’s model “${expected.name}” has ${expected.sha256.slice(0, 12)}…: nothing was loaded or run. Pick the file the link was made from.`;
    return patchShared({ model: 'waiting-file', message });
  }
  await loadFiles(files);
  const loaded = useLab.getState().model;
  if (loaded.sha256 === expected.sha256) patchShared({ model: 'ready' });
  else patchShared({ model: 'waiting-file', message: `${file.name} matched the link’s hash but did not load: ${useLab.getState().loadError?.message ?? 'see the message above'}` });
}

export function closeShared(): void {
  useLab.setState({ shared: undefined });
}

// ---- tours ------------------------------------------------------------------------------------

/** Opens a tour's step and applies its link, if it has one. */
export function openTourStep(id: string, step: number): void {
  const tour = findTour(id);
  if (!tour) return;
  const index = Math.max(0, Math.min(tour.steps.length - 1, step));
  useLab.setState({ tour: { id, step: index } });
  const link = tour.steps[index].link;
  if (link) void applyLink(link);
}

export function startTour(id: string): void {
  if (!findTour(id)) {
    useLab.setState({ linkError: `This tour link cannot be opened: the lab has no tour named “${id}”.` });
    return;
  }
  openTourStep(id, 0);
}

export function closeTour(): void {
  useLab.setState({ tour: undefined });
}
