// The recipe's calibration settings: reading them, and the problems that make them impossible.
import { defaultRecipe } from './defaults.ts';
import type { FieldReader } from './reader.ts';
import { CALIBRATION_MODES, type CalibrationRecipe, type Recipe } from './types.ts';

/** calibration.{samples, mode, batchSize, outputSample} with defaults. */
export function readCalibration(fields: FieldReader | undefined): CalibrationRecipe {
  const defaults = defaultRecipe().calibration;
  return {
    samples: fields?.number('samples', defaults.samples) ?? defaults.samples,
    mode: fields?.choice('mode', CALIBRATION_MODES, defaults.mode) ?? defaults.mode,
    batchSize: fields?.number('batchSize', defaults.batchSize) ?? defaults.batchSize,
    outputSample: fields?.number('outputSample', defaults.outputSample) ?? defaults.outputSample,
  };
}

/** `calibSize` (samples in the calibration set), when given, bounds calibration.samples. */
export function calibrationProblems(recipe: Recipe, calibSize: number | undefined): string[] {
  const { samples, batchSize, outputSample, mode } = recipe.calibration;
  const problems: string[] = [];
  if (!Number.isInteger(samples) || samples < 1) problems.push(`calibration.samples: must be an integer >= 1, got ${samples}`);
  else if (calibSize !== undefined && samples > calibSize) problems.push(`calibration.samples = ${samples} is more than the calibration set holds (${calibSize})`);
  if (!Number.isInteger(recipe.seed) || recipe.seed < 0 || recipe.seed > 0xffffffff) problems.push(`seed: must be an integer in [0, 2^32), got ${recipe.seed}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) problems.push(`calibration.batchSize: must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(outputSample) || outputSample < 0) problems.push(`calibration.outputSample: must be an integer >= 0, got ${outputSample}`);
  if (!CALIBRATION_MODES.includes(mode)) problems.push(`calibration.mode: must be "sequential" or "one-pass", got "${mode}"`);
  return problems;
}
