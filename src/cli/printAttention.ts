// The attention stage's rows for `lab run`: every candidate head of ACT's search with its
// calibration score alone and its change against the model without ACT, the selected set and
// what it scored (compress/attentionStage.ts fills the report).
import type { AttentionStageReport } from '../core/compress/attentionStage';

const heads = (list: readonly { layer: number; head: number }[]) => (list.length === 0 ? 'none' : list.map((h) => `${h.layer}.${h.head}`).join(', '));

export function attentionStageLines(stage: AttentionStageReport): string[] {
  if (stage.heads === 'given') return [`  heads         ${heads(stage.selected)} (given by the recipe; no search)`];
  const lines = [`  search        ${stage.metric}, ${stage.samples} samples; ${stage.evaluations} sets scored; layers skipped: ${stage.skippedLayers.join(', ') || 'none'}`];
  lines.push(`  baseline      ${stage.baseline!.toFixed(4)} (no head calibrated)`);
  const header = ['layer', 'head', 'NLL alone', 'delta', 'improves', 'selected'];
  const selected = new Set(stage.selected.map((h) => `${h.layer}.${h.head}`));
  const rows = stage.candidates.map((c) => [String(c.layer), String(c.head), c.score.toFixed(4), `${c.delta >= 0 ? '+' : ''}${c.delta.toFixed(4)}`, c.improves ? 'yes' : 'no', selected.has(`${c.layer}.${c.head}`) ? '*' : '']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padStart(widths[i])).join('  ')}`;
  lines.push(line(header), `  ${widths.map((w) => '-'.repeat(w)).join('  ')}`, ...rows.map(line));
  if (stage.keptScore !== null) lines.push(`  kept together ${heads(stage.kept)}: ${stage.keptScore.toFixed(4)}`);
  for (const d of stage.drops) lines.push(`  dropped       ${d.layer}.${d.head}: set scores ${d.score.toFixed(4)} without it`);
  lines.push(
    stage.selected.length === 0
      ? '  selected      none: no head improved the calibration NLL, so the model is unchanged'
      : `  selected      ${heads(stage.selected)}: ${stage.selectedScore!.toFixed(4)} (${(stage.selectedScore! - stage.baseline!).toFixed(4)} vs. baseline, on calibration samples; compare on the evaluation set with \`lab compare\`)`,
  );
  return lines;
}
