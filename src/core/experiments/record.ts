// An experiment record: one recipe run on one model, everything needed to find it again, compare
// it and reproduce it — model identity, recipe and seed, the weights' hash, metrics with their
// interval, the compression report (per-layer statistics, measured and estimated sizes, bits per
// weight, timings, backends), the lab's version. No live state (workers, sessions, progress) and
// no model bytes: a compressed model is reproducible from its record.
//
// Records travel as JSON between browsers and to the CLI:
//
//   { "format": "compression-lab/experiments", "version": 1, "records": [ … ] }
//
// An imported file is read strictly, like a recipe: an unknown format or version, a missing or
// mistyped field is refused with the field's path, before anything is stored.
import type { CompressReport } from '../compress/report.ts';
import { pairedBootstrap } from '../eval/bootstrap.ts';
import type { SampleValues } from '../eval/samples.ts';
import type { EvalMetrics } from '../eval/metrics.ts';
import { readRecipeField, RecipeError } from '../recipe/parse.ts';
import { checkSha256, describeValue, fieldPath, FieldReader, isJsonObject, RecipeProblems } from '../recipe/reader.ts';
import type { Recipe } from '../recipe/types.ts';

export const EXPERIMENTS_FORMAT = 'compression-lab/experiments';
export const EXPERIMENTS_VERSION = 1;
/** More records than a person keeps; a bound on what one import may hold. */
export const MAX_IMPORT_RECORDS = 10_000;

/** 'interrupted': the tab closed or crashed mid-run; never shown as finished. */
export type RecordStatus = 'running' | 'done' | 'error' | 'cancelled' | 'interrupted';
export const RECORD_STATUSES: readonly RecordStatus[] = ['running', 'done', 'error', 'cancelled', 'interrupted'];

export type RecordModelSource = { kind: 'bundled'; id: string } | { kind: 'file'; name: string };

export interface RecordModel {
  /** What the page calls it (the model card's name, or the file name). */
  label: string;
  source: RecordModelSource;
  /** SHA-256 of the .onnx file the run started from. */
  sha256: string;
  /** Measured bytes of that file. */
  sizeBytes: number;
}

/** The change of the headline metric against the dense model, with its paired 95 % interval. */
export interface RecordInterval {
  metric: 'perplexity' | 'top1';
  delta: number;
  low: number;
  high: number;
}

export interface ExperimentRecord {
  id: string;
  /** Shown as "run N"; numbers only grow, across reloads. */
  number: number;
  status: RecordStatus;
  /** Epoch milliseconds. */
  startedAt: number;
  finishedAt?: number;
  labVersion: string;
  model: RecordModel;
  /** The recipe as run (its seed is `recipe.seed`). */
  recipe: Recipe;
  /** Where layer jobs were asked to run, and in how many workers. */
  compute: { backend: 'cpu' | 'webgpu'; poolSize: number };
  /** The run's report: absent until the compression finished. */
  report?: CompressReport;
  /** The dense model's and the compressed model's metrics on the same evaluation set. */
  dense?: EvalMetrics;
  metrics?: EvalMetrics;
  interval?: RecordInterval;
  /** Inference time per token (or image), dense and compressed, measured alike. */
  inference?: { denseMsPerItem: number; runMsPerItem: number; backend: string };
  /** Why it failed, or what stopped it. */
  message?: string;
}

export interface ExperimentsFile {
  format: typeof EXPERIMENTS_FORMAT;
  version: typeof EXPERIMENTS_VERSION;
  records: ExperimentRecord[];
}

/** The JSON document that carries `records`. */
export function experimentsFile(records: readonly ExperimentRecord[]): ExperimentsFile {
  return { format: EXPERIMENTS_FORMAT, version: EXPERIMENTS_VERSION, records: [...records] };
}

// ---- reading --------------------------------------------------------------------------------

function requiredString(fields: FieldReader, key: string, max = 500): string {
  const value = fields.string(key);
  if (value === undefined) {
    if (!fields.has(key)) fields.problem(key, 'is required');
    return '';
  }
  if (value.length > max) fields.problem(key, `holds ${value.length} characters, at most ${max}`);
  return value;
}

function requiredNumber(fields: FieldReader, key: string, check?: (v: number) => string | undefined): number {
  if (!fields.has(key)) {
    fields.raw(key);
    fields.problem(key, 'is required');
    return Number.NaN;
  }
  const value = fields.number(key, Number.NaN);
  const problem = Number.isFinite(value) ? check?.(value) : undefined;
  if (problem) fields.problem(key, problem);
  return value;
}

const nonNegative = (v: number) => (v >= 0 ? undefined : `must be ≥ 0, got ${v}`);
const positiveInteger = (v: number) => (Number.isInteger(v) && v >= 1 ? undefined : `must be an integer ≥ 1, got ${v}`);

function sha(fields: FieldReader, key: string): string {
  const value = requiredString(fields, key);
  if (value) checkSha256(fields, key, value);
  return value;
}

function readModel(fields: FieldReader | undefined, path: string, problems: RecipeProblems): RecordModel {
  if (fields === undefined) {
    problems.add(path, 'is required');
    return { label: '', source: { kind: 'bundled', id: '' }, sha256: '', sizeBytes: 0 };
  }
  const label = requiredString(fields, 'label');
  const sourceFields = fields.object('source');
  let source: RecordModelSource = { kind: 'bundled', id: '' };
  if (sourceFields === undefined) fields.problem('source', 'is required');
  else {
    const kind = sourceFields.choice('kind', ['bundled', 'file'] as const, 'bundled');
    source = kind === 'bundled' ? { kind, id: requiredString(sourceFields, 'id', 64) } : { kind, name: requiredString(sourceFields, 'name') };
    sourceFields.finish();
  }
  const model = { label, source, sha256: sha(fields, 'sha256'), sizeBytes: requiredNumber(fields, 'sizeBytes', nonNegative) };
  fields.finish();
  return model;
}

/** Metrics as evaluate() gives them: the task decides the fields. */
function readMetrics(fields: FieldReader | undefined): EvalMetrics | undefined {
  if (fields === undefined) return undefined;
  const task = fields.choice('task', ['causal-lm', 'image-classification'] as const, 'causal-lm');
  if (!fields.has('task')) fields.problem('task', 'is required');
  const n = (key: string) => requiredNumber(fields, key, nonNegative);
  const metrics: EvalMetrics =
    task === 'causal-lm'
      ? { task, perplexity: n('perplexity'), bitsPerChar: n('bitsPerChar'), top1: n('top1'), meanNll: n('meanNll'), evalTokens: n('evalTokens') }
      : { task, top1: n('top1'), meanNll: n('meanNll'), evalSamples: n('evalSamples') };
  fields.finish();
  return metrics;
}

function readInterval(fields: FieldReader | undefined): RecordInterval | undefined {
  if (fields === undefined) return undefined;
  const metric = fields.choice('metric', ['perplexity', 'top1'] as const, 'perplexity');
  const interval = { metric, delta: requiredNumber(fields, 'delta'), low: requiredNumber(fields, 'low'), high: requiredNumber(fields, 'high') };
  if (interval.low > interval.high) fields.problem('low', `must not exceed high (${interval.high}), got ${interval.low}`);
  fields.finish();
  return interval;
}

function readInference(fields: FieldReader | undefined): ExperimentRecord['inference'] {
  if (fields === undefined) return undefined;
  const inference = { denseMsPerItem: requiredNumber(fields, 'denseMsPerItem', nonNegative), runMsPerItem: requiredNumber(fields, 'runMsPerItem', nonNegative), backend: requiredString(fields, 'backend', 100) };
  fields.finish();
  return inference;
}

/**
 * The report as the lab wrote it. The fields the history reads are checked by type; the rest of
 * its rows are data the views show as text and numbers, so the structure is checked, not every
 * value: a report is large, and a later lab version of the same record version may add fields.
 */
function readReport(value: unknown, path: string, problems: RecipeProblems): CompressReport | undefined {
  const fields = FieldReader.of(value, path, problems);
  if (fields === undefined) return undefined;
  requiredString(fields, 'summary', 2000);
  sha(fields, 'weightsSha256');
  sha(fields, 'fileSha256');
  for (const key of ['stages', 'layers', 'quantized', 'notes']) {
    const list = fields.raw(key);
    if (!Array.isArray(list)) fields.problem(key, `must be an array, got ${describeValue(list)}`);
    else if (key === 'notes') list.forEach((note, i) => typeof note !== 'string' && problems.add(fieldPath(fields.pathOf(key), i), `must be a string, got ${describeValue(note)}`));
    else list.forEach((row, i) => readRow(row, fieldPath(fields.pathOf(key), i), problems));
  }
  const totals = fields.object('totals');
  if (totals === undefined) fields.problem('totals', 'is required');
  else {
    requiredNumber(totals, 'denseFileBytes', nonNegative);
    requiredNumber(totals, 'achievedSparsityAllLinear', nonNegative);
  }
  const timings = fields.object('timings');
  if (timings === undefined) fields.problem('timings', 'is required');
  else requiredNumber(timings, 'totalMs', nonNegative);
  return value as CompressReport;
}

/** A per-layer or per-stage row: an object with a string id or kind, and no function or prototype trick. */
function readRow(value: unknown, path: string, problems: RecipeProblems): void {
  const fields = FieldReader.of(value, path, problems);
  if (fields === undefined) return;
  const key = fields.has('id') ? 'id' : 'kind';
  if (typeof fields.raw(key) !== 'string') fields.problem(key, `must be a string, got ${describeValue(fields.raw(key))}`);
}

function readRecord(value: unknown, path: string, problems: RecipeProblems): ExperimentRecord | undefined {
  const fields = FieldReader.of(value, path, problems);
  if (fields === undefined) {
    if (value === undefined) problems.add(path, 'must be an object');
    return undefined;
  }
  const id = requiredString(fields, 'id', 100);
  const number = requiredNumber(fields, 'number', positiveInteger);
  const status = fields.choice('status', RECORD_STATUSES, 'done');
  if (!fields.has('status')) fields.problem('status', 'is required');
  const startedAt = requiredNumber(fields, 'startedAt', nonNegative);
  const finishedAt = fields.has('finishedAt') ? requiredNumber(fields, 'finishedAt', nonNegative) : (fields.raw('finishedAt'), undefined);
  const labVersion = requiredString(fields, 'labVersion', 50);
  const model = readModel(fields.object('model'), fields.pathOf('model'), problems);
  const recipe = readRecipeField(fields, 'recipe');
  const computeFields = fields.object('compute');
  let compute: ExperimentRecord['compute'] = { backend: 'cpu', poolSize: 1 };
  if (computeFields === undefined) fields.problem('compute', 'is required');
  else {
    compute = { backend: computeFields.choice('backend', ['cpu', 'webgpu'] as const, 'cpu'), poolSize: requiredNumber(computeFields, 'poolSize', positiveInteger) };
    computeFields.finish();
  }
  const report = fields.has('report') ? readReport(fields.raw('report'), fields.pathOf('report'), problems) : (fields.raw('report'), undefined);
  const dense = readMetrics(fields.object('dense'));
  const metrics = readMetrics(fields.object('metrics'));
  const interval = readInterval(fields.object('interval'));
  const inference = readInference(fields.object('inference'));
  const message = fields.has('message') ? requiredString(fields, 'message', 5000) : (fields.raw('message'), undefined);
  if (status === 'done' && (report === undefined || metrics === undefined)) problems.add(path, 'a finished run (status "done") must hold its report and metrics');
  fields.finish();
  if (recipe === undefined) return undefined;
  return {
    id,
    number,
    status,
    startedAt,
    ...(finishedAt === undefined ? {} : { finishedAt }),
    labVersion,
    model,
    recipe,
    compute,
    ...(report ? { report } : {}),
    ...(dense ? { dense } : {}),
    ...(metrics ? { metrics } : {}),
    ...(interval ? { interval } : {}),
    ...(inference ? { inference } : {}),
    ...(message === undefined ? {} : { message }),
  };
}

/** An experiments file (parsed JSON) → its records, or a RecipeError naming every bad field's path. */
export function readExperimentsFile(json: unknown): ExperimentRecord[] {
  if (!isJsonObject(json)) throw new RecipeError([`an experiments file is a JSON object, got ${describeValue(json)}`]);
  const problems = new RecipeProblems();
  const top = new FieldReader(json, '', problems);
  if (top.raw('format') !== EXPERIMENTS_FORMAT) throw new RecipeError([`format: not a Compression Lab experiments file (expected "${EXPERIMENTS_FORMAT}", got ${describeValue(json.format)})`]);
  const version = top.raw('version');
  if (version !== EXPERIMENTS_VERSION) throw new RecipeError([`version: this lab reads experiments files of version ${EXPERIMENTS_VERSION}, got ${describeValue(version)}`]);
  const raw = top.raw('records');
  const records: ExperimentRecord[] = [];
  if (!Array.isArray(raw)) top.problem('records', `must be an array of records, got ${describeValue(raw)}`);
  else if (raw.length > MAX_IMPORT_RECORDS) top.problem('records', `holds ${raw.length} records; one file holds at most ${MAX_IMPORT_RECORDS}`);
  else {
    raw.forEach((value, i) => {
      const record = readRecord(value, fieldPath('records', i), problems);
      if (record) records.push(record);
    });
    const seen = new Set<string>();
    records.forEach((r, i) => {
      if (seen.has(r.id)) problems.add(fieldPath(fieldPath('records', i), 'id'), `${JSON.stringify(r.id)} appears twice in the file`);
      seen.add(r.id);
    });
  }
  top.finish();
  if (problems.list.length > 0) throw new RecipeError(problems.list);
  return records;
}

/** JSON text → records; a syntax error is one line. */
export function readExperimentsText(text: string): ExperimentRecord[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new RecipeError(['not valid JSON: an experiments file is the JSON the lab exports']);
  }
  return readExperimentsFile(json);
}

/**
 * The headline metric's change from the dense model to the run, with its paired 95 % bootstrap
 * interval over the evaluation samples (perplexity for an LM, top-1 for a classifier).
 */
export function recordInterval(dense: SampleValues, run: SampleValues, seed = 0): RecordInterval {
  const metric = dense.task === 'causal-lm' ? 'perplexity' : 'top1';
  const { delta, low, high } = pairedBootstrap(dense, run, { metric, seed });
  return { metric, delta, low, high };
}
