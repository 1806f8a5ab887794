import { useEffect, useState } from 'react';
import { percent, seconds } from '../format';
import { phaseShares, runFraction, timeLeft } from '../runProgress';
import { cancelRun } from '../runController';
import { useLab, type RunRecord } from '../store';

/** Measured phase costs of the last finished run of the same method and calibration mode. */
function measuredCosts(runs: RunRecord[], run: RunRecord): Record<string, number> | undefined {
  const same = (r: RunRecord) => r.status === 'done' && r.id !== run.id && JSON.stringify(r.recipe.stages.map((s) => [s.kind, (s as { method?: string }).method])) === JSON.stringify(run.recipe.stages.map((s) => [s.kind, (s as { method?: string }).method])) && r.recipe.calibration.mode === run.recipe.calibration.mode;
  return [...runs].reverse().find(same)?.phaseMs;
}

/** One bar for the whole run, the current phase as text, an estimate of the time left, Cancel. */
export function RunProgress({ run }: { run: RunRecord }) {
  const runs = useLab((s) => s.runs);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, []);
  const fraction = runFraction(run.progress, phaseShares(measuredCosts(runs, run)));
  const elapsed = now - run.startedAt;
  const left = timeLeft(fraction, elapsed);
  const p = run.progress;
  const phase = p ? `${p.phase === 'start' ? 'starting' : p.phase}${p.label && p.label !== p.phase ? ` · ${p.label}` : ''}${p.step && p.step.count > 1 ? ` (step ${p.step.index + 1} of ${p.step.count})` : ''}` : '';
  return (
    <div className="run-progress" data-testid="run-progress">
      <progress id={`progress-${run.id}`} value={fraction} max={1} aria-label={`Run ${run.number} progress`} />
      <div className="run-progress-text">
        <span>
          {percent(fraction, 0)} — {phase}
        </span>
        <span className="muted">
          {seconds(elapsed)} elapsed{left !== undefined && `, about ${seconds(left)} left`}
        </span>
        {run.cancelling ? (
          <button type="button" disabled>
            cancelling…
          </button>
        ) : (
          <button type="button" onClick={() => cancelRun(run.id)}>
            Cancel
          </button>
        )}
      </div>
    </div>
  );
}
