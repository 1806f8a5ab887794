// The dropped tokenizer.json through tokenizers.js, checked against an independent implementation:
// GPT-2's byte-level BPE built from OpenAI's released encoder.json and vocab.bpe (testing/
// gpt2Tokenizer.ts) must give exactly the ids that gpt-3-encoder (a separate port of OpenAI's
// encoder.py) gives, on English, numbers, whitespace runs, accents, CJK and emoji.
import { encode as referenceEncode } from 'gpt-3-encoder';
import { describe, expect, test } from 'vitest';
import { gpt2TokenizerJson, GPT2_TOKENIZER_CONFIG } from './testing/gpt2Tokenizer';
import { loadHfTokenizer, TokenizerFileError } from './tokenizer';

const texts = [
  'In the beginning God created the heaven and the earth.',
  "Hello world! It's 2026-12-07, and 3.14159 isn't π.",
  '  leading spaces,\ttabs\nand\n\nnew lines   ',
  'naïve café — Zürich, São Paulo',
  '東京は日本の首都です。',
  'emoji 🙂🚀 and symbols <>{}[]#@$%^&*',
  'The quick brown fox jumps over the lazy dog. '.repeat(20),
];

describe('loadHfTokenizer', () => {
  const tokenizer = loadHfTokenizer(gpt2TokenizerJson(), GPT2_TOKENIZER_CONFIG);

  test('GPT-2 ids equal the reference encoder’s, and decode gives the text back', () => {
    for (const text of texts) {
      const ids = tokenizer.encode(text);
      expect(ids).toEqual(referenceEncode(text));
      expect(tokenizer.decode(ids)).toBe(text);
    }
  });

  test('vocabulary size and end of text as GPT-2 has them', () => {
    expect(tokenizer.vocabSize).toBe(50257);
    expect(tokenizer.eosId).toBe(50256);
  });

  test('a file that is not a tokenizer.json is refused, naming the file and the field', () => {
    const message = (json: unknown) => {
      try {
        loadHfTokenizer(json, {}, 'folder/tokenizer.json');
      } catch (e) {
        expect(e).toBeInstanceOf(TokenizerFileError);
        return (e as Error).message;
      }
      return '';
    };
    expect(message('hello')).toMatch(/^folder\/tokenizer\.json: must be a JSON object/);
    expect(message({ version: '1.0' })).toMatch(/model\.type: required \(BPE, WordPiece, Unigram, …\): this is not a tokenizer\.json/);
    expect(message({ model: { type: 'BPE' } })).toMatch(/model\.vocab: required/);
  });
});
