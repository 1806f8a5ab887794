// Sweeps in the trade-off tab: pick a parameter of the builder's recipe, edit its values, run every
// value as a normal run (or the same sweep for three pruning methods), follow and cancel it.
import { useMemo, useState } from 'react';
import { sweepOptions } from '../../core/experiments/sweep';
import { seconds } from '../format';
import { phaseShares, runFraction } from '../runProgress';
import { useLab, type SweepProgress } from '../store';
import { cancelSweep, currentSweepBlockers, runSweep, sweepContext } from '../sweepController';
import { planMethodComparison, planSweep, timeLeftMs, type SweepPlan } from '../sweepPlan';

export function SweepPanel() {
  const recipe = useLab((s) => s.recipe);
  const analysis = useLab((s) => s.model.analysis);
  const sweep = useLab((s) => s.sweep);
  // Re-read the blockers whenever a run starts or stops.
  useLab((s) => s.runs.filter((r) => r.status === 'running').length);
  const options = useMemo(() => sweepOptions(recipe), [recipe]);
  const [path, setPath] = useState<string>();
  const [texts, setTexts] = useState<Record<string, string>>({});
  const option = options.find((o) => o.path === path) ?? options[0];
  const text = option ? (texts[option.path] ?? option.values.join(',')) : '';
  // Points are checked against the loaded model (and its calibration set, which comes with it).
  const context = useMemo(() => sweepContext(), [analysis]);
  const plan = useMemo(() => (option ? planSweep(recipe, option.path, text, context) : undefined), [recipe, option, text, context]);
  const comparison = useMemo(() => planMethodComparison(recipe, option?.path ?? '', text, context), [recipe, option, text, context]);
  if (!option || !plan) {
    return (
      <section className="sweep" aria-labelledby="sweep-title" data-testid="sweep">
        <h3 id="sweep-title">Sweep</h3>
        <p className="muted">Add a stage to the recipe: a sweep varies one of its parameters.</p>
      </section>
    );
  }
  const blockers = currentSweepBlockers(plan);
  const compareBlockers = currentSweepBlockers(comparison);
  return (
    <section className="sweep" aria-labelledby="sweep-title" data-testid="sweep">
      <h3 id="sweep-title">Sweep</h3>
      <p className="muted">One click runs the recipe on the left once per value, one after another, each as a normal run in the run list; the chart fills as points finish.</p>
      <div className="sweep-fields">
        <div className="field">
          <label className="field-label" htmlFor="sweep-param">
            Parameter
          </label>
          <select id="sweep-param" data-testid="sweep-param" value={option.path} onChange={(e) => setPath(e.target.value)}>
            {options.map((o) => (
              <option key={o.path} value={o.path}>
                {o.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field sweep-values">
          <label className="field-label" htmlFor="sweep-values">
            Values
          </label>
          <input id="sweep-values" type="text" data-testid="sweep-values" value={text} aria-describedby="sweep-values-hint" aria-invalid={plan.problems.length > 0} onChange={(e) => setTexts({ ...texts, [option.path]: e.target.value })} />
          <span id="sweep-values-hint" className="field-hint">
            a list (0.3,0.5,0.7) or a range from:to:step (0.1:0.9:0.2)
          </span>
        </div>
      </div>
      {plan.problems.length > 0 && (
        <ul className="problems" data-testid="sweep-problems">
          {plan.problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      <SweepButton testId="sweep-run" label={`Run sweep (${plan.points.length} ${plan.points.length === 1 ? 'point' : 'points'})`} plan={plan} blockers={blockers} />
      <SweepButton testId="sweep-compare" label={`Compare methods at this sparsity range (${comparison.points.length} points: magnitude, Wanda, SparseGPT)`} plan={comparison} blockers={compareBlockers} />
      {sweep && <SweepStatus sweep={sweep} />}
    </section>
  );
}

/** A start button, disabled with its first reason beside it. */
function SweepButton({ testId, label, plan, blockers }: { testId: string; label: string; plan: SweepPlan; blockers: string[] }) {
  const reasonId = `${testId}-blocked`;
  return (
    <div className="sweep-action">
      <button type="button" data-testid={testId} disabled={blockers.length > 0 || plan.points.length === 0} aria-describedby={blockers.length > 0 ? reasonId : undefined} onClick={() => void runSweep(plan)}>
        {label}
      </button>
      {blockers.length > 0 && (
        <span id={reasonId} className="run-blocked" data-testid={reasonId}>
          {blockers[0]}
          {blockers.length > 1 ? ` (and ${blockers.length - 1} more)` : ''}
        </span>
      )}
    </div>
  );
}

const FINISHED = new Set(['done', 'error', 'cancelled', 'skipped']);

/** Overall progress, the current point's phase, the time left, Cancel; a summary once it ends. */
function SweepStatus({ sweep }: { sweep: SweepProgress }) {
  const current = useLab((s) => s.runs.findLast((r) => r.sweep?.id === sweep.id));
  const total = sweep.points.length;
  const finished = sweep.points.filter((p) => FINISHED.has(p.status)).length;
  const done = sweep.points.filter((p) => p.status === 'done').length;
  if (sweep.status !== 'running') return <SweepSummary sweep={sweep} done={done} />;
  const index = sweep.points.findIndex((p) => p.status === 'running');
  const point = sweep.points[index];
  const fraction = current?.status === 'running' ? runFraction(current.progress, phaseShares(undefined)) : current?.timing?.status === 'running' ? 1 : 0;
  const runPhase = current?.progress?.phase;
  const phase = current?.status === 'running' ? (runPhase && runPhase !== 'start' ? runPhase : 'starting') : current?.timing?.status === 'running' ? 'timing inference' : 'starting';
  const left = timeLeftMs(sweep.points);
  return (
    <div className="run-progress sweep-progress" data-testid="sweep-progress" data-done={finished} data-total={total}>
      <progress value={finished + fraction} max={total} aria-label={`Sweep progress: ${finished} of ${total} points`} />
      <div className="run-progress-text">
        <span data-testid="sweep-progress-text">
          {finished} of {total} points done{point ? ` · point ${index + 1}: ${sweep.title} = ${point.value}, ${phase} (${Math.round(fraction * 100)} %)` : ''}
        </span>
        <span className="muted" data-testid="sweep-time-left">
          {left === undefined ? 'time left: estimating…' : `about ${seconds(left)} left`}
        </span>
        <button type="button" data-testid="sweep-cancel" disabled={sweep.cancelling} onClick={cancelSweep}>
          {sweep.cancelling ? 'cancelling…' : 'Cancel sweep'}
        </button>
      </div>
      <SweepPoints sweep={sweep} />
    </div>
  );
}

function SweepSummary({ sweep, done }: { sweep: SweepProgress; done: number }) {
  const took = (sweep.finishedAt ?? sweep.startedAt) - sweep.startedAt;
  const notRun = sweep.points.filter((p) => p.status === 'skipped').length;
  const failed = sweep.points.filter((p) => p.status === 'error').length;
  const cancelled = sweep.points.filter((p) => p.status === 'cancelled').length;
  const words = sweep.status === 'cancelled' ? 'Sweep cancelled' : sweep.status === 'error' ? 'Sweep stopped' : 'Sweep finished';
  return (
    <div data-testid="sweep-summary" data-status={sweep.status} data-done={done}>
      <p className={sweep.status === 'error' ? 'error' : 'muted'}>
        {words} ({sweep.title}): {done} of {sweep.points.length} points finished in {seconds(took)}
        {done > 0 ? `, ${seconds(took / done)} per finished point` : ''}
        {failed > 0 ? `; ${failed} failed` : ''}
        {cancelled > 0 ? `; ${cancelled} cancelled while running` : ''}
        {notRun > 0 ? `; ${notRun} not run` : ''}.{sweep.message ? ` ${sweep.message}` : ''}
      </p>
      <SweepPoints sweep={sweep} />
    </div>
  );
}

function SweepPoints({ sweep }: { sweep: SweepProgress }) {
  return (
    <ol className="sweep-points" data-testid="sweep-points" aria-label="Sweep points">
      {sweep.points.map((p, i) => (
        <li key={i} data-status={p.status} data-run={p.runId}>
          <span className="sweep-point-value">{p.value}</span> {p.status === 'skipped' ? 'not run' : p.status}
        </li>
      ))}
    </ol>
  );
}
