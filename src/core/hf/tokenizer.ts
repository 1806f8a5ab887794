// A model's own tokenizer, from the tokenizer.json (and tokenizer_config.json) dropped with it,
// through Hugging Face's tokenizers.js (`@huggingface/tokenizers`, the library transformers.js
// uses), not a hand-written one: BPE, WordPiece, Unigram and their normalizers, pre-tokenizers and
// decoders as the file declares them. Nothing is fetched: the library is given parsed JSON.
import { Tokenizer } from '@huggingface/tokenizers';
import { describeValue, isJsonObject } from '../recipe/reader.ts';
import { configTokenId, singleTemplate, type SequenceTemplate } from './specialTokens.ts';

export interface HfTokenizer {
  /** Token ids of `text`, without the special tokens a post-processor would add (evaluation windows add none). */
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  /** Entries of the vocabulary, added tokens included: the embedding must have at least this many rows. */
  vocabSize: number;
  /** The end-of-text token's id, when the file names one. */
  eosId?: number;
  /** What the post-processor wraps one sequence in ([CLS] … [SEP] for BERT), when it says. */
  template?: SequenceTemplate;
  /** tokenizer_config.json's mask_token, for masked-LM evaluation of encoders. */
  maskId?: number;
}

export class TokenizerFileError extends Error {
  override name = 'TokenizerFileError';
}

/** tokenizer.json (parsed) → a tokenizer; a file that is not one is refused naming the file and the field. */
export function loadHfTokenizer(tokenizerJson: unknown, tokenizerConfig: unknown = {}, file = 'tokenizer.json'): HfTokenizer {
  if (!isJsonObject(tokenizerJson)) throw new TokenizerFileError(`${file}: must be a JSON object, got ${describeValue(tokenizerJson)}`);
  const model = tokenizerJson.model;
  if (!isJsonObject(model) || typeof model.type !== 'string') throw new TokenizerFileError(`${file}: model.type: required (BPE, WordPiece, Unigram, …): this is not a tokenizer.json`);
  if (!isJsonObject(model.vocab) && !Array.isArray(model.vocab)) throw new TokenizerFileError(`${file}: model.vocab: required, got ${describeValue(model.vocab)}`);
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(tokenizerJson, isJsonObject(tokenizerConfig) ? tokenizerConfig : {});
  } catch (e) {
    throw new TokenizerFileError(`${file}: the tokenizer library refused it: ${(e as Error).message.slice(0, 200)}`);
  }
  const added = Array.isArray(tokenizerJson.added_tokens) ? (tokenizerJson.added_tokens as { id?: unknown }[]) : [];
  const baseSize = Array.isArray(model.vocab) ? model.vocab.length : Object.keys(model.vocab as object).length;
  const vocabSize = Math.max(baseSize, ...added.map((t) => (typeof t.id === 'number' ? t.id + 1 : 0)));
  const eosName = isJsonObject(tokenizerConfig) && typeof tokenizerConfig.eos_token === 'string' ? tokenizerConfig.eos_token : undefined;
  const eosId = eosName !== undefined ? tokenizer.token_to_id(eosName) : tokenizer.token_to_id('<|endoftext|>') ?? tokenizer.token_to_id('</s>');
  const template = singleTemplate(tokenizerJson, file);
  const maskId = configTokenId(tokenizerJson, tokenizerConfig, 'mask_token');
  return {
    ...(template ? { template } : {}),
    ...(maskId === undefined ? {} : { maskId }),
    encode: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids,
    decode: (ids) => tokenizer.decode([...ids]),
    vocabSize,
    ...(eosId === undefined ? {} : { eosId }),
  };
}
