import { describe, expect, test } from 'vitest';
import { phaseShares, PRIOR_COSTS, runFraction, timeLeft } from './runProgress';

describe('run progress', () => {
  const shares = phaseShares({ calibrate: 600, prune: 200, report: 0, evaluate: 200 });

  test('shares come from measured milliseconds, else the prior', () => {
    expect(shares.calibrate).toBeCloseTo(0.6);
    expect(shares.evaluate).toBeCloseTo(0.2);
    expect(phaseShares(undefined).calibrate).toBeCloseTo(PRIOR_COSTS.calibrate / Object.values(PRIOR_COSTS).reduce((a, b) => a + b));
  });

  test('the sequential walk advances block by block and never goes backwards', () => {
    const events = [0, 1, 2].flatMap((index) => [
      { phase: 'calibrate', label: '', done: 1, total: 2, step: { index, count: 3 } },
      { phase: 'calibrate', label: '', done: 2, total: 2, step: { index, count: 3 } },
      { phase: 'prune', label: '', done: 6, total: 6, step: { index, count: 3 } },
    ]);
    const fractions = [...events, { phase: 'report', label: '', done: 1, total: 1 }, { phase: 'evaluate', label: '', done: 2, total: 4 }, { phase: 'evaluate', label: '', done: 4, total: 4 }].map((p) => runFraction(p, shares));
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]).toBeGreaterThanOrEqual(fractions[i - 1]);
    expect(fractions[2]).toBeCloseTo(0.8 / 3); // block 0 of 3 fully done: a third of the walk
    expect(fractions[fractions.length - 1]).toBeCloseTo(1);
  });

  test('time left extrapolates from elapsed time once 5 % is done', () => {
    expect(timeLeft(0.01, 1000)).toBeUndefined();
    expect(timeLeft(0.25, 1000)).toBeCloseTo(3000);
  });
});
