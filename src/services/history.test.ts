// The run history's storage rules on an in-memory IndexedDB (fake-indexeddb): import adds and never
// replaces, a record left 'running' by a closed tab becomes 'interrupted' unless a tab holds its
// lock, a failed pin leaves everything as it was. The real IndexedDB and Web Locks are exercised in
// Chromium (e2e/history.e2e.ts).
import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import { parseRecipe } from '../core/recipe';
import type { ExperimentRecord } from '../core/experiments/record';
import { allRecords, deleteRecords, importRecords, markInterrupted, nextRunNumber, openHistory, pinModel, pinnedModel, putRecord, storageUse, type HistoryDb } from './history';

const recipe = parseRecipe({ version: 2, stages: [{ kind: 'prune', method: 'magnitude' }] });
const record = (id: string, number: number, status: ExperimentRecord['status'] = 'interrupted'): ExperimentRecord => ({
  id,
  number,
  status,
  startedAt: 1000 + number,
  labVersion: '0.1.0',
  model: { label: 'LM', source: { kind: 'bundled', id: 'kjv-charlm' }, sha256: 'a'.repeat(64), sizeBytes: 10 },
  recipe,
  compute: { backend: 'cpu', poolSize: 1 },
});

let databases = 0;
async function fresh(): Promise<HistoryDb> {
  const opened = await openHistory(`test-${++databases}`);
  if (!opened.ok) throw new Error(opened.reason);
  return opened.db;
}

describe('the run history store', () => {
  test('records come back in start order; numbers keep growing; delete removes records and pins', async () => {
    const db = await fresh();
    await putRecord(db, record('b', 2));
    await putRecord(db, record('a', 1));
    expect((await allRecords(db)).map((r) => r.id)).toEqual(['a', 'b']);
    expect(nextRunNumber(await allRecords(db))).toBe(3);
    await pinModel(db, 'a', new Uint8Array([1, 2, 3]));
    await deleteRecords(db, ['a']);
    expect((await allRecords(db)).map((r) => r.id)).toEqual(['b']);
    expect(await pinnedModel(db, 'a')).toBeUndefined();
  });

  test('an import adds, skips the same run, renames a different one, and replaces nothing', async () => {
    const db = await fresh();
    const mine = record('x', 1);
    await putRecord(db, mine);
    const other = { ...record('x', 5), startedAt: 99 };
    const result = await importRecords(db, [record('y', 2), mine, other]);
    expect(result).toEqual({ added: 1, skipped: 1, renamed: 1, renumbered: 0 });
    const stored = await allRecords(db);
    expect(stored).toHaveLength(3);
    expect(stored.find((r) => r.id === 'x')).toEqual(mine);
  });

  test('an imported run whose number is taken (run 1 of another browser) is numbered after the highest', async () => {
    const db = await fresh();
    await putRecord(db, record('mine-1', 1));
    await putRecord(db, record('mine-2', 2));
    const result = await importRecords(db, [record('theirs-1', 1), record('theirs-7', 7), record('theirs-2', 2)]);
    expect(result).toEqual({ added: 3, skipped: 0, renamed: 0, renumbered: 2 });
    const numbers = Object.fromEntries((await allRecords(db)).map((r) => [r.id, r.number]));
    expect(numbers).toEqual({ 'mine-1': 1, 'mine-2': 2, 'theirs-1': 3, 'theirs-7': 7, 'theirs-2': 8 });
  });

  test('a run left running by a closed tab is interrupted; one another tab holds is not', async () => {
    const db = await fresh();
    await putRecord(db, record('closed', 1, 'running'));
    await putRecord(db, record('elsewhere', 2, 'running'));
    await putRecord(db, record('finished', 3, 'cancelled'));
    const marked = await markInterrupted(db, new Set(['elsewhere']), 5000);
    expect(marked.map((r) => r.id)).toEqual(['closed']);
    const byId = new Map((await allRecords(db)).map((r) => [r.id, r]));
    expect(byId.get('closed')).toMatchObject({ status: 'interrupted', finishedAt: 5000 });
    expect(byId.get('closed')!.message).toMatch(/closed or crashed before this run finished/);
    expect(byId.get('elsewhere')!.status).toBe('running');
    expect(byId.get('finished')!.status).toBe('cancelled');
  });

  test('pinned bytes come back; storage use counts them', async () => {
    const db = await fresh();
    await pinModel(db, 'r', new Uint8Array(1000));
    expect((await pinnedModel(db, 'r'))!.byteLength).toBe(1000);
    expect(await storageUse(db)).toMatchObject({ pinnedBytes: 1000, pinned: 1 });
  });

  test('no IndexedDB: a reason, not a crash', async () => {
    const saved = globalThis.indexedDB;
    Reflect.deleteProperty(globalThis, 'indexedDB');
    try {
      const opened = await openHistory('none');
      expect(opened.ok).toBe(false);
    } finally {
      globalThis.indexedDB = saved;
    }
  });
});
