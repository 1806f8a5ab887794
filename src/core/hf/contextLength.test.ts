import { describe, expect, test } from 'vitest';
import { defaultWindowLength, hfContextLength } from './contextLength.ts';

describe('hfContextLength', () => {
  test('GPT-2’s n_positions, the Llama-style max_position_embeddings, old n_ctx; none when absent', () => {
    expect(hfContextLength({ model_type: 'gpt2', n_positions: 1024, n_ctx: 1024 })).toBe(1024);
    expect(hfContextLength({ model_type: 'qwen2', max_position_embeddings: 32768 })).toBe(32768);
    expect(hfContextLength({ n_ctx: 512 })).toBe(512);
    expect(hfContextLength({ model_type: 'bert' })).toBeUndefined();
  });
  test('a context that is not a whole number ≥ 2 names the file and the field', () => {
    expect(() => hfContextLength({ n_positions: '1k' }, 'm/config.json')).toThrow('m/config.json: n_positions: must be an integer ≥ 2, got a string ("1k")');
    expect(() => hfContextLength({ max_position_embeddings: 1 }, 'm/config.json')).toThrow('m/config.json: max_position_embeddings: must be an integer ≥ 2, got 1');
  });
  test('the default window: 128, or the context when shorter', () => {
    expect(defaultWindowLength(1024)).toBe(128);
    expect(defaultWindowLength(64)).toBe(64);
    expect(defaultWindowLength(undefined)).toBe(128);
  });
});
