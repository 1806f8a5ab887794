// A recipe's calibration samples against the windows a user's text gives: lowered with a line
// that says so (as the page's Your data panel does), left alone when the text holds enough.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseRecipe } from '../core/recipe';
import { fitCalibrationSamples } from './hfFolder';

const gptq = parseRecipe(JSON.parse(readFileSync('recipes/gptq-4bit-g32.json', 'utf8')));

describe('fitCalibrationSamples', () => {
  test('a recipe asking for more samples than the text gives is lowered to the windows there are, and says so', () => {
    const lines: string[] = [];
    const fitted = fitCalibrationSamples(gptq, 8, (line) => lines.push(line));
    expect(gptq.calibration.samples).toBeGreaterThan(8);
    expect(fitted.calibration.samples).toBe(8);
    expect({ ...fitted, calibration: { ...fitted.calibration, samples: gptq.calibration.samples } }).toEqual(gptq);
    expect(lines).toEqual([`calibration     the recipe's ${gptq.calibration.samples} calibration samples lowered to 8: all the calibration windows this text gives`]);
  });

  test('enough windows: the recipe as written, nothing printed', () => {
    const lines: string[] = [];
    expect(fitCalibrationSamples(gptq, gptq.calibration.samples, (line) => lines.push(line))).toBe(gptq);
    expect(lines).toEqual([]);
  });
});
