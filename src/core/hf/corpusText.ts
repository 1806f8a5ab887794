// The bundled public-domain corpus as plain text, for a model with a tokenizer of its own: the
// bundled character LM's calibration and evaluation windows (consecutive, non-overlapping windows
// of seqLen + 1 characters of the King James Bible, scripts/train/kjv_charlm.py) decoded through
// its vocab.json and joined back into the running text they were cut from.
import { CharTokenizer, type CharVocab } from '../catalog/vocab.ts';
import type { LmTokenDataset } from '../eval/datasets.ts';

export function corpusText(sets: readonly LmTokenDataset[], vocab: CharVocab): string {
  const tokenizer = new CharTokenizer(vocab);
  return sets.map((set) => set.sequences.map((window) => tokenizer.decode(window)).join('')).join('\n');
}
