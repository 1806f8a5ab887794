// ACT's head search in words: the outcome in one sentence, and the greedy drop steps. Every number
// is a calibration-set number (the search never sees the evaluation set), and a gain whose
// interval contains 0 is called within noise.
import type { AttentionStageReport } from '../core/compress/attentionStage';
import type { HeadId } from '../core/attention/headSearch';
import { intervalText } from './charts/headSearchChart';

const headList = (heads: readonly HeadId[]) => heads.map((h) => `${h.layer}.${h.head}`).join(', ');
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const withinNoise = (i: { low: number; high: number } | null) => i !== null && i.low <= 0 && 0 <= i.high;

/** The search's outcome: what was selected and what it did to the calibration NLL, or why nothing was. */
export function headSearchSummary(r: AttentionStageReport): string {
  if (r.heads === 'given') return `${plural(r.selected.length, 'head')} given by the recipe (${headList(r.selected)}): no search ran, so there are no calibration numbers.`;
  const on = `on ${plural(r.samples, 'calibration sample')}`;
  if (r.selected.length === 0 && r.finalSet.length > 0) {
    return `Heads ${headList(r.finalSet)} improved alone, but together their change against the uncalibrated model, ${intervalText(r.finalInterval)}, is within noise ${on}: no head is calibrated and the model is unchanged.`;
  }
  if (r.selected.length === 0) {
    return r.guard === 'interval' ? `No head improved beyond sampling noise ${on}: the model is unchanged.` : `No head lowered the mean NLL ${on}: the model is unchanged.`;
  }
  const change = r.finalInterval ? ` (95 % interval of the change ${intervalText(r.finalInterval)}${withinNoise(r.finalInterval) ? ': within noise — the strict rule takes gains these samples cannot tell from chance' : ''})` : '';
  return `${plural(r.selected.length, 'head')} selected (${headList(r.selected)}): NLL ${r.baseline!.toFixed(4)} → ${r.selectedScore!.toFixed(4)} ${on}${change}.`;
}

/** The greedy elimination, step by step (empty when fewer than two heads improved alone). */
export function dropSteps(r: AttentionStageReport): string[] {
  if (r.kept.length < 2 || r.keptScore === null) return [];
  const steps = [`Together, the ${plural(r.kept.length, 'head')} that improved alone (${headList(r.kept)}) score ${r.keptScore.toFixed(4)}.`];
  for (const d of r.drops) steps.push(`Dropped ${d.layer}.${d.head}: the set without it scores ${d.score.toFixed(4)}${d.interval ? `, change ${intervalText(d.interval)}` : ''}.`);
  steps.push(`No further drop improved the set: ${headList(r.finalSet)} ${r.finalSet.length === 1 ? 'remains' : 'remain'}${r.selected.length === 0 ? ', and fails the final check against the uncalibrated model' : ''}.`);
  return steps;
}
