// The special tokens an encoder's windows need, read from the dropped tokenizer files rather than
// assumed: what the post-processor wraps a single sequence in ([CLS] … [SEP] for BERT, <s> … </s>
// for RoBERTa), and the mask token. tokenizers' post-processors are TemplateProcessing (`single`:
// a list of SpecialToken / Sequence pieces, with `special_tokens` giving each piece's ids) or the
// older BertProcessing / RobertaProcessing (`cls` and `sep` as [token, id]); the mask token is
// tokenizer_config.json's `mask_token` (a string or an AddedToken object), as transformers'
// PreTrainedTokenizer reads it.
import { describeValue, isJsonObject } from '../recipe/reader.ts';
import { TokenizerFileError } from './tokenizer.ts';

export interface SequenceTemplate {
  /** Ids put before and after one sequence by the post-processor. */
  prefix: number[];
  suffix: number[];
}

/** The post-processor's single-sequence template, or none when the file has no post-processor. */
export function singleTemplate(tokenizerJson: Record<string, unknown>, file = 'tokenizer.json'): SequenceTemplate | undefined {
  const post = tokenizerJson.post_processor;
  if (post === null || post === undefined) return undefined;
  if (!isJsonObject(post)) throw new TokenizerFileError(`${file}: post_processor: must be an object, got ${describeValue(post)}`);
  if (post.type === 'BertProcessing' || post.type === 'RobertaProcessing') {
    const idOf = (key: 'cls' | 'sep') => {
      const pair = post[key];
      if (!Array.isArray(pair) || typeof pair[1] !== 'number') throw new TokenizerFileError(`${file}: post_processor.${key}: must be [token, id], got ${describeValue(pair)}`);
      return pair[1];
    };
    return { prefix: [idOf('cls')], suffix: [idOf('sep')] };
  }
  if (post.type !== 'TemplateProcessing') return undefined;
  const single = post.single;
  const table = isJsonObject(post.special_tokens) ? post.special_tokens : {};
  if (!Array.isArray(single)) throw new TokenizerFileError(`${file}: post_processor.single: must be a list, got ${describeValue(single)}`);
  const template: SequenceTemplate = { prefix: [], suffix: [] };
  let seenSequence = false;
  single.forEach((piece, i) => {
    if (isJsonObject(piece) && isJsonObject(piece.Sequence)) {
      seenSequence = true;
      return;
    }
    const name = isJsonObject(piece) && isJsonObject(piece.SpecialToken) ? piece.SpecialToken.id : undefined;
    const entry = typeof name === 'string' ? table[name] : undefined;
    const ids = isJsonObject(entry) && Array.isArray(entry.ids) && entry.ids.every((x) => typeof x === 'number') ? (entry.ids as number[]) : undefined;
    if (!ids) throw new TokenizerFileError(`${file}: post_processor.single[${i}]: ${typeof name === 'string' ? `special token ${JSON.stringify(name)} has no ids in post_processor.special_tokens` : 'neither a SpecialToken nor a Sequence'}`);
    (seenSequence ? template.suffix : template.prefix).push(...ids);
  });
  return template;
}

/** The id of tokenizer_config.json's `field` token (e.g. mask_token), looked up among tokenizer.json's added tokens and vocabulary. */
export function configTokenId(tokenizerJson: Record<string, unknown>, tokenizerConfig: unknown, field: string): number | undefined {
  const value = isJsonObject(tokenizerConfig) ? tokenizerConfig[field] : undefined;
  const content = typeof value === 'string' ? value : isJsonObject(value) && typeof value.content === 'string' ? value.content : undefined;
  if (content === undefined) return undefined;
  const added = Array.isArray(tokenizerJson.added_tokens) ? tokenizerJson.added_tokens : [];
  for (const token of added) if (isJsonObject(token) && token.content === content && typeof token.id === 'number') return token.id;
  const model = tokenizerJson.model;
  const vocab = isJsonObject(model) && isJsonObject(model.vocab) ? model.vocab : undefined;
  const id = vocab?.[content];
  return typeof id === 'number' ? id : undefined;
}
