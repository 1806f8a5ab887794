// Version 1 → version 2. A version-1 recipe (scripts/quality/recipes before issue 7, old URLs and
// worker messages) is one flat pruning recipe: the prune stage's fields at the top level and the
// seed inside `calibration`. It reads as `{ version: 2, seed, calibration, stages: [{ kind:
// 'prune', ...top-level fields }] }`; its problems keep the version-1 paths.
import { readCalibration } from './calibration.ts';
import type { FieldReader } from './reader.ts';
import { pruneStageKind } from './stages/prune.ts';
import { RECIPE_VERSION, type Recipe } from './types.ts';

export function readV1(top: FieldReader): Recipe {
  top.raw('version');
  const calibrationFields = top.object('calibration');
  const seed = calibrationFields?.number('seed', 0) ?? 0;
  const calibration = readCalibration(calibrationFields);
  calibrationFields?.finish();
  // The top-level object is the prune stage's field set.
  const stage = pruneStageKind.parse(top);
  top.finish();
  return { version: RECIPE_VERSION, seed, calibration, stages: [stage] };
}
