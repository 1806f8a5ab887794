// parseDataset: an image set carries how its raw values become inputs, or it is refused.
import { describe, expect, test } from 'vitest';
import { parseDataset } from './datasets';

const image = (extra: Record<string, unknown>) => ({ kind: 'image-classification', shape: [1, 2, 2], images: [[0, 4, 8, 16]], labels: [3], ...extra });

describe('parseDataset (image sets)', () => {
  test('keeps the set’s preprocessing', () => {
    const set = parseDataset(image({ preprocess: { divide: 16 } }), 'eval.json');
    expect(set.kind === 'image-classification' && set.preprocess).toEqual({ divide: 16 });
  });

  test.each([
    [{}, /eval\.json: image set lacks "preprocess"/],
    [{ preprocess: null }, /eval\.json: preprocess\.divide must be a positive number/],
    [{ preprocess: { divide: 0 } }, /preprocess\.divide must be a positive number/],
    [{ preprocess: { divide: '16' } }, /preprocess\.divide must be a positive number/],
    [{ preprocess: { divide: 16, mean: 0.5 } }, /eval\.json: preprocess\.mean: unknown field/],
  ])('refuses %j', (extra, message) => {
    expect(() => parseDataset(image(extra), 'eval.json')).toThrow(message);
  });

  test('token sets need no preprocessing', () => {
    expect(parseDataset({ kind: 'lm-tokens', seqLen: 2, sequences: [[1, 2, 3]] }).kind).toBe('lm-tokens');
  });
});
