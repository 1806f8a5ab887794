import { describe, expect, test } from 'vitest';
import { expectClose, expectDeepEqual, firstDifference } from './expectClose.ts';

describe('expectClose', () => {
  test('passes within atol + rtol·|expected|, with NaN matching NaN and equal infinities', () => {
    expectClose([1, 2.001, NaN, Infinity, -0], [1, 2, NaN, Infinity, 0], { atol: 0, rtol: 1e-3 });
    expectClose(new Float32Array([1e-9]), [0], { atol: 1e-8, rtol: 0 });
  });

  test('reports max errors and the first five mismatches', () => {
    const actual = [0, 1.5, 2, 3.5, 4, 5.5, 6.5, 7.5, 9];
    const expected = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    let message = '';
    try {
      expectClose(actual, expected, { atol: 0.1, rtol: 0 }, 'logits');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      'logits: 6 of 9 elements differ beyond atol 0.1, rtol 0 (max abs error 1, max rel error 0.5)\n' +
        'first mismatches:\n' +
        '  [1] actual 1.5, expected 1\n  [3] actual 3.5, expected 3\n  [5] actual 5.5, expected 5\n' +
        '  [6] actual 6.5, expected 6\n  [7] actual 7.5, expected 7',
    );
  });

  test('NaN against a number, and length mismatches, fail', () => {
    expect(() => expectClose([NaN], [1], { atol: 1, rtol: 1 })).toThrow(/max abs error Infinity/);
    expect(() => expectClose([1, 2], [1], { atol: 1, rtol: 1 }, 'x')).toThrow('x: length 2 differs from expected length 1');
  });
});

describe('structural equality', () => {
  test('typed arrays compare by kind and bits; bigint differs from number', () => {
    expect(firstDifference({ a: new Float32Array([1, 2]) }, { a: new Float32Array([1, 2]) })).toBeNull();
    expect(firstDifference({ a: new Float32Array([0]) }, { a: new Float32Array([-0]) })).toBe('$.a[0]: 0 vs -0');
    expect(firstDifference(new Float32Array(1), new Int32Array(1))).toBe('$: [object Float32Array] vs [object Int32Array]');
    expect(firstDifference([5], [5n])).toBe('$[0]: 5 (number) vs 5n (bigint)');
    expect(firstDifference({ x: [{ y: 'a' }] }, { x: [{ y: 'b' }] })).toBe('$.x[0].y: "a" vs "b"');
  });

  test('an absent key differs from one set to undefined; a Node Buffer equals a Uint8Array', () => {
    expect(firstDifference({}, { k: undefined })).toBe('$.k: absent vs present');
    expect(firstDifference(Buffer.from([1, 2]), new Uint8Array([1, 2]))).toBeNull();
  });

  test('expectDeepEqual throws with the path', () => {
    expect(() => expectDeepEqual({ dims: [1, 2] }, { dims: [1, 3] }, 'model')).toThrow('model differs at $.dims[1]: 2 vs 3 (actual vs expected)');
  });
});
