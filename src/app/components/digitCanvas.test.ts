// One stroke on the drawing grid: ink adds half the range up to full ink, the eraser clears, and
// the pixels passed in are left as they were (the view keeps the drawing as React state).
import { describe, expect, test } from 'vitest';
import { paintPixel } from './DigitCanvas';

describe('paintPixel', () => {
  test('ink adds half the range, capped at full ink; the eraser clears', () => {
    const blank = Array(64).fill(0);
    const once = paintPixel(blank, 9, 'ink', 16);
    expect(once[9]).toBe(8);
    expect(paintPixel(once, 9, 'ink', 16)[9]).toBe(16);
    expect(paintPixel(paintPixel(once, 9, 'ink', 16), 9, 'ink', 16)[9]).toBe(16);
    expect(paintPixel(once, 9, 'erase', 16)[9]).toBe(0);
    expect(blank[9]).toBe(0);
    expect(once.filter((v) => v !== 0)).toHaveLength(1);
  });

  test('an odd range still reaches full ink in two strokes', () => {
    expect(paintPixel(paintPixel([0], 0, 'ink', 15), 0, 'ink', 15)).toEqual([15]);
  });
});
