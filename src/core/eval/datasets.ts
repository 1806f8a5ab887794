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
  images: number[][];
  labels: number[];
}

export type Dataset = LmTokenDataset | ImageDataset;

/** How raw dataset values become model inputs (from the model card). */
export interface Preprocess {
  divide?: number;
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
    return { kind: 'image-classification', shape: d.shape as number[], images: d.images as number[][], labels: d.labels as number[] };
  }
  throw new DatasetError(`${what}: unknown kind ${JSON.stringify(d.kind)} (expected "lm-tokens" or "image-classification")`);
}

export function datasetSize(d: Dataset): number {
  return d.kind === 'lm-tokens' ? d.sequences.length : d.images.length;
}
