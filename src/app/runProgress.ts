// One progress bar for a whole run. A run passes through phases (calibrate and prune per block in
// sequential mode, report, evaluate); each phase gets a share of the bar equal to its measured cost
// in earlier runs of the same kind in this session, or a prior measured on the bundled LM
// (docs/benchmarks.md) before any run finished. Time left = elapsed × (1 − f) / f.
import type { Progress } from '../core/job';

export type PhaseCosts = Record<string, number>;

/** Shares of a Wanda 50 % run on the bundled LM (CPU path, 32 samples), measured in the browser. */
export const PRIOR_COSTS: PhaseCosts = { calibrate: 0.55, allocate: 0, prune: 0.1, report: 0.05, evaluate: 0.3 };

const ORDER = ['calibrate', 'allocate', 'prune', 'report', 'evaluate'] as const;

/** Normalised phase shares from measured milliseconds (a run's phaseMs), falling back to the prior. */
export function phaseShares(measured: PhaseCosts | undefined): PhaseCosts {
  const source = measured && Object.values(measured).some((v) => v > 0) ? measured : PRIOR_COSTS;
  const total = ORDER.reduce((sum, p) => sum + (source[p] ?? 0), 0) || 1;
  return Object.fromEntries(ORDER.map((p) => [p, (source[p] ?? 0) / total]));
}

/**
 * The fraction of the run done after `progress`. The walk (calibrate, allocate, prune) advances
 * step by step: with step i of n, the walk's phases are (i + within) / n done.
 */
export function runFraction(progress: Progress | undefined, shares: PhaseCosts): number {
  if (!progress) return 0;
  const within = progress.total > 0 ? Math.min(1, progress.done / progress.total) : 0;
  const walk = shares.calibrate + shares.allocate + shares.prune;
  switch (progress.phase) {
    case 'calibrate':
    case 'allocate':
    case 'prune': {
      const steps = progress.step?.count ?? 1;
      const index = progress.step?.index ?? 0;
      const before = progress.phase === 'calibrate' ? 0 : progress.phase === 'allocate' ? shares.calibrate : shares.calibrate + shares.allocate;
      const inPhase = (before + shares[progress.phase] * within) / (walk || 1);
      return Math.min(walk, ((index + inPhase) / steps) * walk);
    }
    case 'report':
      return walk + shares.report * within;
    case 'evaluate':
      return walk + shares.report + shares.evaluate * within;
    default:
      return 0;
  }
}

/** Milliseconds left, once enough is done to extrapolate (5 %); undefined before. */
export function timeLeft(fraction: number, elapsedMs: number): number | undefined {
  if (fraction < 0.05 || fraction >= 1) return undefined;
  return (elapsedMs * (1 - fraction)) / fraction;
}
