import { describe, expect, test } from 'vitest';
import { searchReport } from './charts/headSearch.fixture';
import { dropSteps, headSearchSummary } from './headSearchSummary';

describe('head search in words', () => {
  const report = searchReport(3);

  test('selected heads: the calibration NLL before and after, and the greedy steps', () => {
    expect(headSearchSummary(report)).toBe('1 head selected (2.1): NLL 1.2500 → 1.2460 on 8 calibration samples (95 % interval of the change [−0.0070, −0.0010]).');
    expect(dropSteps(report)).toEqual([
      'Together, the 2 heads that improved alone (2.1, 3.0) score 1.2465.',
      'Dropped 3.0: the set without it scores 1.2460, change [−0.0010, −0.0001].',
      'No further drop improved the set: 2.1 remains.',
    ]);
  });

  test('nothing selected: within noise, or no mean gain under the strict rule', () => {
    const none = { ...report, kept: [], keptScore: null, drops: [], finalSet: [], finalInterval: null, selected: [], selectedScore: report.baseline };
    expect(headSearchSummary(none)).toBe('No head improved beyond sampling noise on 8 calibration samples: the model is unchanged.');
    expect(headSearchSummary({ ...none, guard: 'none' })).toBe('No head lowered the mean NLL on 8 calibration samples: the model is unchanged.');
    expect(dropSteps(none)).toEqual([]);
    const failed = { ...none, finalSet: [{ layer: 2, head: 1 }, { layer: 3, head: 0 }], finalInterval: { low: -0.002, high: 0.0005 } };
    expect(headSearchSummary(failed)).toBe('Heads 2.1, 3.0 improved alone, but together their change against the uncalibrated model, [−0.0020, +0.0005], is within noise on 8 calibration samples: no head is calibrated and the model is unchanged.');
  });

  test('a strict-rule selection whose interval contains 0 is called within noise; given heads have no numbers', () => {
    expect(headSearchSummary({ ...report, guard: 'none', finalInterval: { low: -0.013, high: 0.002 } })).toMatch(/\[−0\.0130, \+0\.0020\]: within noise — the strict rule takes gains these samples cannot tell from chance\)\.$/);
    expect(headSearchSummary({ ...report, heads: 'given', selected: [{ layer: 2, head: 0 }, { layer: 3, head: 1 }] })).toBe('2 heads given by the recipe (2.0, 3.1): no search ran, so there are no calibration numbers.');
  });
});
