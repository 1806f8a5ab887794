// Text the user brings, as the lab's evaluation and calibration sets: pasted text, a .txt file,
// or a .jsonl file with a `text` field per line. It is tokenized with the model's own tokenizer and
// cut into consecutive windows of seqLen + 1 tokens (inputs, then the shifted targets), and the
// windows are dealt to calibration and evaluation by a seeded shuffle: the two sets never share a
// window, and which windows went where is kept so the page can show the split.
//
// Bits per byte make perplexities comparable across tokenizers: the evaluation NLL summed over
// every predicted token, in bits, divided by the UTF-8 bytes those tokens spell. Each window keeps
// the bytes of its targets for that.
import { chooseSamples } from '../calibrate/random.ts';
import type { LmTokenDataset } from '../eval/datasets.ts';

export class TextDataError extends Error {
  override name = 'TextDataError';
}

/** A .jsonl file's `text` fields, one document per line, joined by blank lines. */
export function jsonlText(content: string, file: string): string {
  const texts: string[] = [];
  content.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new TextDataError(`${file}: line ${i + 1} is not JSON`);
    }
    const text = (row as { text?: unknown } | null)?.text;
    if (typeof text !== 'string') throw new TextDataError(`${file}: line ${i + 1}: text: required, a string`);
    texts.push(text);
  });
  if (texts.length === 0) throw new TextDataError(`${file}: no line with a "text" field`);
  return texts.join('\n\n');
}

export interface TextSplit {
  calib: LmTokenDataset;
  eval: LmTokenDataset;
  /** Window numbers (in text order) in each set: disjoint, together every window. */
  calibWindows: number[];
  evalWindows: number[];
  /** UTF-8 bytes spelled by each evaluation window's targets (for bits per byte). */
  evalTargetBytes: number[];
  /** Tokens the text gave, and those left over after the last whole window. */
  tokens: number;
  leftOver: number;
}

export interface TextSplitOptions {
  seqLen: number;
  /** Share of the windows that go to calibration (the rest are evaluated); default 0.5. */
  calibShare?: number;
  seed?: number;
}

/** The text's windows dealt to calibration and evaluation; too little text is one sentence saying how much more is needed. */
export function splitText(text: string, tokenizer: { encode(text: string): number[]; decode(ids: readonly number[]): string }, options: TextSplitOptions): TextSplit {
  const { seqLen, calibShare = 0.5, seed = 0 } = options;
  if (!Number.isInteger(seqLen) || seqLen < 2) throw new TextDataError(`window length must be an integer ≥ 2, got ${seqLen}`);
  if (!(calibShare > 0 && calibShare < 1)) throw new TextDataError(`calibration share must lie in (0, 1), got ${calibShare}`);
  const ids = tokenizer.encode(text);
  const width = seqLen + 1;
  const count = Math.floor(ids.length / width);
  if (count < 2) throw new TextDataError(`the text gives ${ids.length} tokens: at least ${2 * width} are needed for one calibration and one evaluation window of ${width} tokens`);
  const windows = Array.from({ length: count }, (_, w) => ids.slice(w * width, (w + 1) * width));
  const calibCount = Math.min(count - 1, Math.max(1, Math.round(count * calibShare)));
  const order = chooseSamples(count, count, seed);
  const calibWindows = order.slice(0, calibCount).sort((a, b) => a - b);
  const evalWindows = order.slice(calibCount).sort((a, b) => a - b);
  const encoder = new TextEncoder();
  return {
    calib: { kind: 'lm-tokens', seqLen, sequences: calibWindows.map((w) => windows[w]) },
    eval: { kind: 'lm-tokens', seqLen, sequences: evalWindows.map((w) => windows[w]) },
    calibWindows,
    evalWindows,
    evalTargetBytes: evalWindows.map((w) => encoder.encode(tokenizer.decode(windows[w].slice(1))).byteLength),
    tokens: ids.length,
    leftOver: ids.length - count * width,
  };
}

/** Bits per byte of an evaluation: Σ NLL (nats) / ln 2 / Σ target bytes. */
export function bitsPerByte(totalNll: number, targetBytes: readonly number[]): number {
  const bytes = targetBytes.reduce((a, b) => a + b, 0);
  return totalNll / Math.LN2 / bytes;
}
