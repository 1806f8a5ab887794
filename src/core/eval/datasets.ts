// Evaluation and calibration sets as shipped beside each bundled model (eval.json, calib.json).
// Parsed and validated here so a tampered or mismatched file fails with a message, not NaNs.

export interface LmTokenDataset {
  kind: 'lm-tokens';
  /** Tokens fed per sequence; each sequence holds seqLen + 1 ids (inputs, then shifted targets). */
  seqLen: number;
  sequences: number[][];
}

export interface ImageDataset {
  kind: 'image-classification';
  /** Per-image shape, e.g. [1, 8, 8] (channels, height, width). */
  shape: number[];
  /** How the stored raw values become model inputs; the set carries it so no reader can forget it. */
  preprocess: Preprocess;
  images: number[][];
  labels: number[];
}

export type Dataset = LmTokenDataset | ImageDataset;

/** How an image set's raw values become model inputs: input = raw / divide. */
export interface Preprocess {
  divide: number;
}

export class DatasetError extends Error {
  override name = 'DatasetError';
}

function isIntArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => Number.isInteger(x));
}

export function parseDataset(json: unknown, what = 'dataset'): Dataset {
  if (typeof json !== 'object' || json === null) throw new DatasetError(`${what}: expected a JSON object`);
  const d = json as Record<string, unknown>;
  if (d.kind === 'lm-tokens') {
    const seqLen = d.seqLen;
    if (!Number.isInteger(seqLen) || (seqLen as number) < 1) throw new DatasetError(`${what}: seqLen must be a positive integer`);
    if (!Array.isArray(d.sequences) || d.sequences.length === 0) throw new DatasetError(`${what}: sequences must be a non-empty array`);
    d.sequences.forEach((s, i) => {
      if (!isIntArray(s) || s.length !== (seqLen as number) + 1)
        throw new DatasetError(`${what}: sequence ${i} must hold seqLen + 1 = ${(seqLen as number) + 1} integer token ids`);
    });
    return { kind: 'lm-tokens', seqLen: seqLen as number, sequences: d.sequences as number[][] };
  }
  if (d.kind === 'image-classification') {
    if (!isIntArray(d.shape) || d.shape.length === 0) throw new DatasetError(`${what}: shape must be an integer array`);
    const size = (d.shape as number[]).reduce((a, b) => a * b, 1);
    if (!Array.isArray(d.images) || !Array.isArray(d.labels) || d.images.length !== d.labels.length || d.images.length === 0)
      throw new DatasetError(`${what}: images and labels must be non-empty arrays of equal length`);
    d.images.forEach((img, i) => {
      if (!Array.isArray(img) || img.length !== size || !img.every((x) => typeof x === 'number' && Number.isFinite(x)))
        throw new DatasetError(`${what}: image ${i} must hold ${size} finite numbers`);
    });
    if (!isIntArray(d.labels)) throw new DatasetError(`${what}: labels must be integers`);
    const preprocess = parsePreprocess(d.preprocess, what);
    return { kind: 'image-classification', shape: d.shape as number[], preprocess, images: d.images as number[][], labels: d.labels as number[] };
  }
  throw new DatasetError(`${what}: unknown kind ${JSON.stringify(d.kind)} (expected "lm-tokens" or "image-classification")`);
}

// An image set without its preprocessing is refused rather than fed raw: a model trained on
// raw/16 scores 16 % on raw pixels and nothing would say why (issue 15).
function parsePreprocess(value: unknown, what: string): Preprocess {
  if (value === undefined)
    throw new DatasetError(`${what}: image set lacks "preprocess" (how raw values become model inputs, e.g. {"divide": 16}; {"divide": 1} feeds them as they are); refusing to guess`);
  const divide = (value as { divide?: unknown } | null)?.divide;
  if (typeof divide !== 'number' || !Number.isFinite(divide) || divide <= 0)
    throw new DatasetError(`${what}: preprocess.divide must be a positive number`);
  const unknown = Object.keys(value as object).filter((k) => k !== 'divide');
  if (unknown.length > 0) throw new DatasetError(`${what}: preprocess.${unknown[0]}: unknown field`);
  return { divide };
}

export function datasetSize(d: Dataset): number {
  return d.kind === 'lm-tokens' ? d.sequences.length : d.images.length;
}

/** The first `count` samples of a dataset (a batch to time, or a quick subset), same kind and preprocessing. */
export function datasetHead(d: Dataset, count: number): Dataset {
  return d.kind === 'lm-tokens' ? { ...d, sequences: d.sequences.slice(0, count) } : { ...d, images: d.images.slice(0, count), labels: d.labels.slice(0, count) };
}

/** What a dataset's metrics average over: predicted tokens (LM) or images. */
export function evaluatedItems(d: Dataset): number {
  return d.kind === 'lm-tokens' ? d.sequences.length * d.seqLen : d.images.length;
}
