// The run history in IndexedDB (through `idb`): every run's record, written when it starts and
// again when it ends, so that it survives a reload and a closed or crashed tab; and, when the user
// pins one, the compressed model's bytes.
//
// Interrupted runs: a tab holds a Web Lock named after each run while it runs. The browser
// releases a tab's locks when the tab closes or crashes, so on the next load a record still
// marked 'running' whose lock nobody holds was cut off: it becomes 'interrupted', never
// 'done'. A run going on in another tab keeps its lock, and its record stays 'running'.
// (A heartbeat timestamp was the alternative: it needs a timeout that is either slow to notice
// or wrong for a busy tab; locks are exact.)
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { ExperimentRecord } from '../core/experiments/record';

const DB_NAME = 'compression-lab';
const DB_VERSION = 1;
const RUN_LOCK_PREFIX = 'compression-lab-run:';

interface HistorySchema extends DBSchema {
  records: { key: string; value: ExperimentRecord; indexes: { startedAt: number } };
  /** Pinned compressed models: the bytes of the file a record's run wrote. */
  models: { key: string; value: { id: string; bytes: Uint8Array; pinnedAt: number } };
}

export type HistoryDb = IDBPDatabase<HistorySchema>;

/** Why the history cannot be kept in this browser (private mode, blocked storage), or the database. */
export async function openHistory(name = DB_NAME): Promise<{ ok: true; db: HistoryDb } | { ok: false; reason: string }> {
  if (!globalThis.indexedDB) return { ok: false, reason: 'this browser offers no IndexedDB, so runs are kept only until the page closes' };
  try {
    const db = await openDB<HistorySchema>(name, DB_VERSION, {
      upgrade(db) {
        db.createObjectStore('records', { keyPath: 'id' }).createIndex('startedAt', 'startedAt');
        db.createObjectStore('models', { keyPath: 'id' });
      },
    });
    return { ok: true, db };
  } catch (e) {
    return { ok: false, reason: `the browser refused storage (${(e as Error).message}), so runs are kept only until the page closes` };
  }
}

export async function allRecords(db: HistoryDb): Promise<ExperimentRecord[]> {
  return db.getAllFromIndex('records', 'startedAt');
}

export async function putRecord(db: HistoryDb, record: ExperimentRecord): Promise<void> {
  await db.put('records', record);
}

/** Deletes records and their pinned models in one transaction. */
export async function deleteRecords(db: HistoryDb, ids: readonly string[]): Promise<void> {
  const tx = db.transaction(['records', 'models'], 'readwrite');
  await Promise.all([...ids.flatMap((id) => [tx.objectStore('records').delete(id), tx.objectStore('models').delete(id)]), tx.done]);
}

/**
 * Adds imported records in one transaction: all of them or, on any failure, none. A record whose
 * id is already stored is skipped when it is the same run, and stored under a fresh id when it is
 * a different one — nothing already stored is replaced. An added record whose number another
 * run has is renumbered after the highest, so "run N" names one run in the list.
 */
export async function importRecords(db: HistoryDb, records: readonly ExperimentRecord[]): Promise<{ added: number; skipped: number; renamed: number; renumbered: number }> {
  const tx = db.transaction('records', 'readwrite');
  const store = tx.objectStore('records');
  const numbers = new Set((await store.getAll()).map((r) => r.number));
  let added = 0;
  let skipped = 0;
  let renamed = 0;
  let renumbered = 0;
  const numbered = (record: ExperimentRecord): ExperimentRecord => {
    const number = numbers.has(record.number) ? Math.max(...numbers) + 1 : record.number;
    if (number !== record.number) renumbered++;
    numbers.add(number);
    return { ...record, number };
  };
  for (const record of records) {
    const existing = await store.get(record.id);
    if (existing === undefined) {
      await store.add(numbered(record));
      added++;
    } else if (sameRun(existing, record)) skipped++;
    else {
      await store.add(numbered({ ...record, id: `${record.id}-imported-${Date.now().toString(36)}-${renamed}` }));
      renamed++;
    }
  }
  await tx.done;
  return { added, skipped, renamed, renumbered };
}

const sameRun = (a: ExperimentRecord, b: ExperimentRecord) => a.startedAt === b.startedAt && a.model.sha256 === b.model.sha256 && a.report?.weightsSha256 === b.report?.weightsSha256 && a.status === b.status;

/** The next run number: one more than any stored, so numbers keep growing across reloads. */
export function nextRunNumber(records: readonly ExperimentRecord[]): number {
  return records.reduce((max, r) => Math.max(max, r.number), 0) + 1;
}

// ---- interrupted runs ---------------------------------------------------------------------------

/** Holds the run's lock until `done` settles; resolves once the lock is held. */
export async function holdRunLock(id: string, done: Promise<unknown>): Promise<void> {
  const locks = globalThis.navigator?.locks;
  if (!locks) return;
  await new Promise<void>((held) => {
    void locks.request(`${RUN_LOCK_PREFIX}${id}`, () => {
      held();
      return done.catch(() => undefined);
    });
  });
}

/** Ids of runs some open tab is running now (their locks are held). */
export async function runsHeldElsewhere(): Promise<Set<string> | undefined> {
  const locks = globalThis.navigator?.locks;
  if (!locks) return undefined;
  const state = await locks.query();
  return new Set((state.held ?? []).map((l) => l.name ?? '').filter((n) => n.startsWith(RUN_LOCK_PREFIX)).map((n) => n.slice(RUN_LOCK_PREFIX.length)));
}

/**
 * Marks stored 'running' records whose run no tab holds as 'interrupted'. Without Web Locks, a
 * record left 'running' by an earlier page is interrupted too: this page cannot be running it.
 */
export async function markInterrupted(db: HistoryDb, held: Set<string> | undefined, now = Date.now()): Promise<ExperimentRecord[]> {
  const marked: ExperimentRecord[] = [];
  for (const record of await allRecords(db)) {
    if (record.status !== 'running' || held?.has(record.id)) continue;
    const interrupted: ExperimentRecord = { ...record, status: 'interrupted', message: 'The page was closed or crashed before this run finished; nothing it computed was kept.', finishedAt: now };
    await putRecord(db, interrupted);
    marked.push(interrupted);
  }
  return marked;
}

// ---- pinned models ------------------------------------------------------------------------------

export interface StorageUse {
  /** Bytes this origin uses and may use (navigator.storage.estimate), when the browser says. */
  usage?: number;
  quota?: number;
  pinnedBytes: number;
  pinned: number;
}

/** Keeps a run's compressed model; a full disk or quota is one sentence, and nothing else is touched. */
export async function pinModel(db: HistoryDb, id: string, bytes: Uint8Array): Promise<{ ok: true } | { ok: false; message: string }> {
  try {
    await db.put('models', { id, bytes, pinnedAt: Date.now() });
    return { ok: true };
  } catch (e) {
    const name = (e as DOMException).name;
    const full = name === 'QuotaExceededError' || /quota/i.test((e as Error).message);
    return { ok: false, message: full ? `Not pinned: the browser's storage for this page is full (${(bytes.byteLength / 1e6).toFixed(1)} MB needed). Unpin or delete runs and try again; the run itself stays in the history.` : `Not pinned: ${(e as Error).message}` };
  }
}

export async function unpinModel(db: HistoryDb, id: string): Promise<void> {
  await db.delete('models', id);
}

export async function pinnedModel(db: HistoryDb, id: string): Promise<Uint8Array | undefined> {
  return (await db.get('models', id))?.bytes;
}

export async function storageUse(db: HistoryDb): Promise<StorageUse> {
  const models = await db.getAll('models');
  const estimate = await globalThis.navigator?.storage?.estimate?.().catch(() => undefined);
  return { usage: estimate?.usage, quota: estimate?.quota, pinnedBytes: models.reduce((n, m) => n + m.bytes.byteLength, 0), pinned: models.length };
}
