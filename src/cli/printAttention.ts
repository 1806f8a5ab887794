// The attention stage's rows for `lab run`: every candidate head of ACT's search with its
// calibration score alone, its change against the model without ACT with the change's 95 % paired
// bootstrap interval over the search samples, the selected set and what it scored (compress/attentionStage.ts fills the report).
import type { ChangeInterval } from '../core/attention/headSearch';
import type { AttentionStageReport } from '../core/compress/attentionStage';

const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
const interval = (i: ChangeInterval | null) => (i === null ? '-' : `[${signed(i.low)}, ${signed(i.high)}]`);
const GUARD_RULE = { interval: 'a head improves when the 95 % interval of its change lies below 0', none: 'a head improves when its mean is lower (no noise guard)' };

const heads = (list: readonly { layer: number; head: number }[]) => (list.length === 0 ? 'none' : list.map((h) => `${h.layer}.${h.head}`).join(', '));

export function attentionStageLines(stage: AttentionStageReport): string[] {
  if (stage.heads === 'given') return [`  heads         ${heads(stage.selected)} (given by the recipe; no search)`];
  const lines = [`  search        ${stage.metric}, ${stage.samples} samples; ${stage.evaluations} sets scored; layers skipped: ${stage.skippedLayers.join(', ') || 'none'}`, `  guard         ${stage.guard}: ${GUARD_RULE[stage.guard]}`];
  lines.push(`  baseline      ${stage.baseline!.toFixed(4)} (no head calibrated)`);
  const header = ['layer', 'head', 'NLL alone', 'delta', '95 % interval', 'improves', 'selected'];
  const selected = new Set(stage.selected.map((h) => `${h.layer}.${h.head}`));
  const rows = stage.candidates.map((c) => [String(c.layer), String(c.head), c.score.toFixed(4), signed(c.delta), interval(c.interval), c.improves ? 'yes' : 'no', selected.has(`${c.layer}.${c.head}`) ? '*' : '']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padStart(widths[i])).join('  ')}`;
  lines.push(line(header), `  ${widths.map((w) => '-'.repeat(w)).join('  ')}`, ...rows.map(line));
  if (stage.keptScore !== null) lines.push(`  kept together ${heads(stage.kept)}: ${stage.keptScore.toFixed(4)}`);
  for (const d of stage.drops) lines.push(`  dropped       ${d.layer}.${d.head}: set scores ${d.score.toFixed(4)} without it, change ${interval(d.interval)}`);
  const rejected = stage.selected.length === 0 && stage.finalSet.length > 0;
  if (rejected) lines.push(`  final set     ${heads(stage.finalSet)}: change against the baseline ${interval(stage.finalInterval)} does not lie below 0`);
  const whyNone = rejected ? 'the final set is no measurable improvement' : `no head improved the calibration NLL${stage.guard === 'interval' ? ' beyond sampling noise' : ''}`;
  lines.push(
    stage.selected.length === 0
      ? `  selected      none: ${whyNone}, so the model is unchanged`
      : `  selected      ${heads(stage.selected)}: ${stage.selectedScore!.toFixed(4)} (${(stage.selectedScore! - stage.baseline!).toFixed(4)} ${interval(stage.finalInterval)} vs. baseline, on calibration samples; compare on the evaluation set with \`lab compare\`)`,
  );
  return lines;
}
