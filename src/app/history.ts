// The run list, kept: every run is written to IndexedDB (services/history.ts) when it starts and
// again whenever its outcome changes (finished, failed, cancelled, timed), and read back on load,
// so runs survive reloads; a run cut off by a closed or crashed tab comes back 'interrupted'.
// The store stays the one source of what the page shows: this module only mirrors its runs.
import { experimentsFile, readExperimentsText, LAB_VERSION, type ExperimentRecord } from '../core/experiments';
import { RecipeError } from '../core/recipe';
import * as storage from '../services/history';
import { modelStem, useLab, type RunRecord } from './store';

let db: storage.HistoryDb | undefined;
/** What was last written per run, so progress ticks do not rewrite records. */
const written = new Map<string, string>();
/** Resolves a running run's Web Lock when it stops running. */
const releaseLock = new Map<string, () => void>();

/** A run as a record: what a reload, an export or another browser needs to show and reproduce it. */
export function recordOf(run: RunRecord): ExperimentRecord {
  const timing = run.timing?.status === 'done' ? run.timing : undefined;
  const metrics = run.evaluation?.status === 'done' ? run.evaluation.metrics : undefined;
  // A run whose compression finished but whose evaluation failed is not 'done' for the history.
  const status = run.status === 'done' && (!run.report || !metrics) ? 'error' : run.status;
  return {
    id: run.id,
    number: run.number,
    status,
    startedAt: run.startedAt,
    ...(run.durationMs === undefined ? {} : { finishedAt: run.startedAt + Math.round(run.durationMs) }),
    labVersion: LAB_VERSION,
    model: { label: run.model.label, source: run.model.source, sha256: run.model.sha256 ?? '', sizeBytes: run.dense.sizeBytes ?? 0 },
    recipe: run.recipe,
    compute: { backend: run.computeBackend, poolSize: run.poolSize },
    ...(run.report ? { report: run.report } : {}),
    ...(run.dense.metrics ? { dense: run.dense.metrics } : {}),
    ...(metrics ? { metrics } : {}),
    ...(run.interval ? { interval: run.interval } : {}),
    ...(timing ? { inference: { denseMsPerItem: timing.denseMsPerItem, runMsPerItem: timing.runMsPerItem, backend: timing.backend } } : {}),
    ...(run.message ? { message: run.message } : {}),
  };
}

/** A stored record as a run of the list: not held by the worker (no download, mask or generation until rerun). */
export function runOf(record: ExperimentRecord): RunRecord {
  return {
    id: record.id,
    number: record.number,
    startedAt: record.startedAt,
    ...(record.finishedAt === undefined ? {} : { durationMs: record.finishedAt - record.startedAt }),
    model: { label: record.model.label, stem: modelStem(record.model.source), source: record.model.source, loadId: -1, sha256: record.model.sha256 },
    recipe: record.recipe,
    computeBackend: record.compute.backend,
    poolSize: record.compute.poolSize,
    status: record.status,
    phaseMs: {},
    layersDone: [],
    ...(record.report ? { report: record.report } : {}),
    ...(record.message ? { message: record.message } : {}),
    ...(record.metrics ? { evaluation: { status: 'done' as const, metrics: record.metrics } } : {}),
    dense: { metrics: record.dense, sizeBytes: record.model.sizeBytes },
    held: false,
    restored: true,
    ...(record.interval ? { interval: record.interval } : {}),
    ...(record.inference ? { timing: { status: 'done' as const, ...record.inference, rounds: 0 } } : {}),
  };
}

/** What, of a run, a record holds: a change here is worth a write. */
const signature = (run: RunRecord) => [run.status, run.report?.weightsSha256, run.evaluation?.status, run.timing?.status, run.interval?.delta, run.message].join('|');

/** Opens the history, marks runs cut off by a closed tab, shows the stored runs, and keeps them in step. */
export async function startHistory(): Promise<void> {
  const opened = await storage.openHistory();
  if (!opened.ok) {
    useLab.setState({ history: { status: 'unavailable', reason: opened.reason } });
    return;
  }
  db = opened.db;
  await storage.markInterrupted(db, await storage.runsHeldElsewhere());
  const restored = (await storage.allRecords(db)).map(runOf);
  for (const run of restored) written.set(run.id, signature(run));
  useLab.setState((s) => ({ runs: [...restored, ...s.runs.filter((r) => !restored.some((x) => x.id === r.id))], history: { status: 'ready' } }));
  // Only a change to the runs can change a record: tabs, picked heads, the dense evaluation write nothing.
  useLab.subscribe((s, previous) => s.runs !== previous.runs && schedulePersist());
  schedulePersist();
}

/** Writes run one after another (a later state never overtaken by an earlier write), from the store as it is then. */
let queue: Promise<void> = Promise.resolve();
function schedulePersist(): void {
  queue = queue.then(persist, persist);
}

async function persist(): Promise<void> {
  if (!db) return;
  for (const run of useLab.getState().runs) {
    const sig = signature(run);
    if (written.get(run.id) === sig) continue;
    written.set(run.id, sig);
    if (run.status === 'running' && !run.restored && !releaseLock.has(run.id)) {
      const stopped = new Promise<void>((resolve) => releaseLock.set(run.id, resolve));
      await storage.holdRunLock(run.id, stopped);
    }
    if (run.status !== 'running') {
      releaseLock.get(run.id)?.();
      releaseLock.delete(run.id);
    }
    await storage.putRecord(db, recordOf(run)).catch((e: Error) => useLab.setState({ history: { status: 'ready', reason: `The last run could not be saved: ${e.message}` } }));
  }
}

/** Deletes runs from the list and the history (their pinned models too). */
export async function deleteRuns(ids: readonly string[]): Promise<void> {
  useLab.setState((s) => ({ runs: s.runs.filter((r) => !ids.includes(r.id) || r.status === 'running'), selectedRunId: ids.includes(s.selectedRunId ?? '') ? undefined : s.selectedRunId }));
  for (const id of ids) written.delete(id);
  if (db) await storage.deleteRecords(db, ids);
}

/** Every finished run as the experiments JSON file (the CLI and other browsers read it). */
export function exportRuns(runs: readonly RunRecord[]): string {
  return `${JSON.stringify(experimentsFile(runs.filter((r) => r.status !== 'running').map(recordOf)), null, 2)}\n`;
}

/**
 * Reads an experiments file and adds its runs; a malformed file or an unknown version is refused
 * with the field's path, and nothing stored is touched. Returns a sentence for the page.
 */
export async function importRuns(text: string): Promise<{ ok: boolean; message: string }> {
  let records: ExperimentRecord[];
  try {
    records = readExperimentsText(text);
  } catch (e) {
    if (e instanceof RecipeError) return { ok: false, message: `Not imported: ${e.problems.slice(0, 3).join('; ')}${e.problems.length > 3 ? ` (and ${e.problems.length - 3} more)` : ''}. Nothing stored was changed.` };
    throw e;
  }
  let added: ExperimentRecord[] = records;
  let summary = `${records.length} run(s) imported`;
  if (db) {
    const result = await storage.importRecords(db, records);
    added = await storage.allRecords(db);
    summary = `${result.added + result.renamed} run(s) imported${result.skipped ? `, ${result.skipped} already here` : ''}${result.renamed ? ` (${result.renamed} renamed: their ids were taken by other runs)` : ''}${result.renumbered ? `; ${result.renumbered} renumbered, their run numbers were taken` : ''}`;
  }
  const runs = added.map(runOf);
  for (const run of runs) written.set(run.id, signature(run));
  // The page's own runs stay as they are (live, held); only runs it does not show yet are added.
  useLab.setState((s) => ({ runs: [...s.runs, ...runs.filter((r) => !s.runs.some((x) => x.id === r.id))].sort((a, b) => a.startedAt - b.startedAt) }));
  return { ok: true, message: `${summary}.` };
}

/** The next run's number: one more than any run kept or shown. */
export function nextRunNumber(): number {
  return useLab.getState().runs.reduce((max, r) => Math.max(max, r.number), 0) + 1;
}

/** Keeps a held run's compressed model in the browser's storage; the message says what happened. */
export async function pinRun(id: string, bytes: Uint8Array): Promise<string> {
  if (!db) return 'Not pinned: this browser keeps no history.';
  const result = await storage.pinModel(db, id, bytes);
  if (!result.ok) return result.message;
  const use = await storage.storageUse(db);
  return `Pinned: ${use.pinned} model(s), ${(use.pinnedBytes / 1e6).toFixed(1)} MB kept${use.usage !== undefined && use.quota ? ` (the browser estimates this page's storage at ${(use.usage / 1e6).toFixed(1)} of ${(use.quota / 1e6).toFixed(0)} MB)` : ''}.`;
}

export async function pinnedBytes(id: string): Promise<Uint8Array | undefined> {
  return db ? storage.pinnedModel(db, id) : undefined;
}

export async function unpinRun(id: string): Promise<void> {
  if (db) await storage.unpinModel(db, id);
}
