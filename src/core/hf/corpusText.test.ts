import { describe, expect, test } from 'vitest';
import { corpusText } from './corpusText.ts';

describe('corpusText', () => {
  test('consecutive windows join back into the running text; sets are separated by a line', () => {
    const vocab = { kind: 'char' as const, chars: [' ', 'A', 'd', 'G', 'n', 'o'] };
    // "And God" cut into windows of 4 + "d" … as the bundled sets store them.
    const calib = { kind: 'lm-tokens' as const, seqLen: 3, sequences: [[1, 4, 2, 0], [3, 5, 2, 0]] };
    const evalSet = { kind: 'lm-tokens' as const, seqLen: 1, sequences: [[1, 2]] };
    expect(corpusText([calib, evalSet], vocab)).toBe('And God \nAd');
  });
});
