// The CLI's lines for a shape-changing stage (compress/stage.ts ReshapeStageReport): its linear
// parameters before and after, and one row per changed layer (rank, BitStack steps, removed
// structures), as `lab run` prints them under the stage's line.
import type { ReshapeStageReport } from '../core/compress/stage.ts';
import type { StageReport } from '../core/compress/report.ts';

export const isReshapeStageReport = (stage: StageReport): stage is ReshapeStageReport => Array.isArray((stage as Partial<ReshapeStageReport>).reshaped);

export function reshapeStageLines(stage: ReshapeStageReport): string[] {
  const { linearParamsBefore: before, linearParamsAfter: after } = stage;
  const lines = [`  linear params ${before.toLocaleString('en')} → ${after.toLocaleString('en')} (${((100 * after) / Math.max(1, before)).toFixed(1)} % of the float values)`];
  const width = Math.max(5, ...stage.reshaped.map((row) => row.name.length));
  for (const row of stage.reshaped) {
    const error = row.relativeError === null ? '' : `, rel. error ${row.relativeError.toExponential(2)} on calibration inputs`;
    lines.push(`  ${row.name.padEnd(width)}  ${row.paramsBefore.toLocaleString('en').padStart(9)} → ${row.paramsAfter.toLocaleString('en').padStart(9)}  ${row.detail}${error}`);
  }
  return lines;
}
