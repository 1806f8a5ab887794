// The `slice` stage: SliceGPT (Ashkboos et al. 2024; reference microsoft/TransformerCompression),
// which rotates the residual stream onto its principal directions and deletes the trailing
// (1 − keep) of the embedding dimension (src/core/slice, docs/slicegpt.md). A shape-changing
// stage: it rewrites the graph and calibrates itself (compress/sliceStage.ts).
//
//   { kind: 'slice', keep: 0.75, rounding: 8, sliceHead: false }
//
// `keep` is the fraction of the embedding dimension kept — the reference's `--sparsity` is 1 − keep;
// the kept width is int(keep·d) rounded down to a multiple of `rounding` (its `--round-interval`,
// default 8). `sliceHead` slices the head's input too (its ConstSlicingScheduler do_slice_head,
// which run_slicegpt.py leaves false).
import { sliceAnalysisProblem } from '../../slice/structure.ts';
import { slicedWidth } from '../../slice/slicegpt.ts';
import type { FieldReader } from '../reader.ts';
import type { StageCheck, StageKind, StageProblem } from '../stage.ts';
import type { StageSpec } from '../types.ts';

export interface SliceStage extends StageSpec {
  kind: 'slice';
  keep: number;
  rounding: number;
  sliceHead: boolean;
}

export const isSliceStage = (stage: StageSpec): stage is SliceStage => stage.kind === 'slice';

export function defaultSliceStage(): SliceStage {
  return { kind: 'slice', keep: 0.75, rounding: 8, sliceHead: false };
}

function parseSliceStage(fields: FieldReader): SliceStage {
  const defaults = defaultSliceStage();
  return {
    kind: 'slice',
    keep: fields.number('keep', defaults.keep),
    rounding: fields.number('rounding', defaults.rounding),
    sliceHead: fields.boolean('sliceHead', defaults.sliceHead),
  };
}

function validateSliceStage(stage: SliceStage, check: StageCheck): StageProblem[] {
  const problems: StageProblem[] = [];
  if (!(stage.keep > 0 && stage.keep <= 1)) problems.push({ field: 'keep', message: `must be in (0, 1], got ${stage.keep}` });
  if (!Number.isInteger(stage.rounding) || stage.rounding < 1) problems.push({ field: 'rounding', message: `must be an integer >= 1, got ${stage.rounding}` });
  if (problems.length > 0) return problems;
  // What the analysis tells is checked here (the page validates against the analysis); the
  // graph's norms and residual Adds are checked by the runner before it calibrates.
  const unsupported = sliceAnalysisProblem(check.analysis);
  if (unsupported !== null) return [{ message: `SliceGPT cannot run on this model: ${unsupported}` }];
  const head = check.analysis.linears.find((l) => l.role === 'head');
  if (head !== undefined) {
    const width = slicedWidth(head.inFeatures, stage.keep, stage.rounding);
    if (width < 1) problems.push({ field: 'keep', message: `keeps no dimension: int(${stage.keep} × ${head.inFeatures}) rounded down to a multiple of ${stage.rounding} is 0` });
  }
  return problems;
}

export const sliceStageKind: StageKind<SliceStage> = {
  kind: 'slice',
  reshapes: true,
  calibrates: () => true,
  defaults: defaultSliceStage,
  parse: parseSliceStage,
  validate: validateSliceStage,
  // It changes every linear layer's shape, which the walk's layer lists cannot express: its rows
  // come back as LayerShapeReport rows of the reshape report.
  layers: () => [],
  needs: () => ({ dense: [], step: [] }),
  describe: (stage) => `SliceGPT, keep ${Math.round(stage.keep * 1000) / 10} % of the embedding dimension (rounded to ×${stage.rounding})${stage.sliceHead ? ', head sliced' : ''}`,
  fileTag: (stage) => `slicegpt-${Math.round((1 - stage.keep) * 100)}`,
};
