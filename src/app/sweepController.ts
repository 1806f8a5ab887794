// Sweep intents: run a plan's points one after another as normal runs (each a record in the run
// list and the history), follow them in the store's sweep slice, cancel the current point and
// the rest. One after another, not side by side: each run already fills the worker pool, and a
// point's inference timing must not share the CPU with the next point's compression.
import { currentEvalSet } from './controller';
import { cancelRun, runRecipe } from './runController';
import { isRunActive, useLab, type SweepPointStatus, type SweepProgress } from './store';
import type { SweepContext, SweepPlan } from './sweepPlan';

/** The loaded model and the size of its calibration set: what a plan's points are checked against. */
export function sweepContext(): SweepContext {
  const set = currentEvalSet();
  const calibSize = set ? (set.calibSet.kind === 'lm-tokens' ? set.calibSet.sequences.length : set.calibSet.images.length) : undefined;
  return { analysis: useLab.getState().model.analysis, calibSize };
}

/** Why the plan cannot start now: its own problems, then what the page is busy with. */
export function sweepBlockers(plan: SweepPlan, busy: { runActive: boolean; sweepRunning: boolean; hasEvalSet: boolean }): string[] {
  if (busy.sweepRunning) return ['A sweep is running: cancel it or wait for it to finish.'];
  if (busy.runActive) return ['A run is in progress: wait for it or cancel it.'];
  if (!busy.hasEvalSet) return ['No evaluation set: sweeps need a bundled model (or a model compatible with one) to evaluate each point.'];
  return plan.problems;
}

export function currentSweepBlockers(plan: SweepPlan): string[] {
  const s = useLab.getState();
  return sweepBlockers(plan, { runActive: isRunActive(s), sweepRunning: s.sweep?.status === 'running', hasEvalSet: currentEvalSet() !== undefined });
}

function patchSweep(patch: Partial<SweepProgress> | ((sweep: SweepProgress) => Partial<SweepProgress>)): void {
  useLab.setState((s) => (s.sweep ? { sweep: { ...s.sweep, ...(typeof patch === 'function' ? patch(s.sweep) : patch) } } : {}));
}

function patchPoint(index: number, patch: Partial<SweepProgress['points'][number]>): void {
  patchSweep((sweep) => ({ points: sweep.points.map((p, i) => (i === index ? { ...p, ...patch } : p)) }));
}

/** Runs every point of the plan in order; resolves when the last finished or the sweep was cancelled. */
export async function runSweep(plan: SweepPlan): Promise<void> {
  if (plan.points.length === 0 || currentSweepBlockers(plan).length > 0) return;
  const id = `sweep-${Date.now().toString(36)}`;
  useLab.setState({ sweep: { id, title: plan.title, points: plan.points.map((p) => ({ value: p.value, status: 'waiting' })), status: 'running', startedAt: Date.now() } });
  const loadId = useLab.getState().model.loadId;
  for (const [index, point] of plan.points.entries()) {
    if (useLab.getState().sweep?.cancelling) break;
    // The points were checked against the model loaded when the sweep started.
    if (useLab.getState().model.loadId !== loadId) {
      patchSweep({ message: 'Another model was loaded: the remaining points were not run.' });
      break;
    }
    patchPoint(index, { status: 'running' });
    const started = performance.now();
    const runId = await runRecipe(point.recipe, { id, param: plan.title, value: point.value });
    const run = useLab.getState().runs.find((r) => r.id === runId);
    if (!run) {
      // Refused before it started (the page changed under the sweep: another model loaded).
      patchPoint(index, { status: 'error' });
      patchSweep({ message: `Point ${point.value} was refused: ${useLab.getState().refusal ?? 'no reason given'}` });
      break;
    }
    const status: SweepPointStatus = run.status === 'done' ? 'done' : run.status === 'cancelled' ? 'cancelled' : 'error';
    // Only finished points time the estimate: a failure may come early and would make it too hopeful.
    patchPoint(index, { status, runId, ...(status === 'done' ? { ms: performance.now() - started } : {}) });
  }
  patchSweep((sweep) => ({
    points: sweep.points.map((p) => (p.status === 'waiting' ? { ...p, status: 'skipped' } : p)),
    status: sweep.message ? 'error' : sweep.cancelling ? 'cancelled' : 'done',
    cancelling: false,
    finishedAt: Date.now(),
  }));
}

/** Cancels the point that is running and every point after it; finished points stay. */
export function cancelSweep(): void {
  const sweep = useLab.getState().sweep;
  if (sweep?.status !== 'running') return;
  patchSweep({ cancelling: true });
  for (const run of useLab.getState().runs) if (run.sweep?.id === sweep.id && run.status === 'running') cancelRun(run.id);
}
