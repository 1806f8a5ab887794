// Adding a stage kind touches neither the pipeline nor the parser: a toy "scale" stage (W ← c·W,
// asking calibration for Σx² at each step) is registered here, in the test file, and runs through
// parseRecipe, validateRecipe and compressModel beside a prune stage. Calibration collects what
// both need once per pass: the prune jobs and the toy stage see the same statistics objects.
import { describe, expect, test } from 'vitest';
import { bundledModel, countingRunnerFactory, openRunner } from '../calibrate/fixtures/models.ts';
import type { CalibrationStats } from '../calibrate/collect.ts';
import { prunableLayers } from '../recipe/layers.ts';
import { parseRecipe, RecipeError } from '../recipe/parse.ts';
import { registerStageKind } from '../recipe/stage.ts';
import type { StageSpec } from '../recipe/types.ts';
import { validateRecipe } from '../recipe/validate.ts';
import { runPruneJob, type PruneJob, type PruneLayerFn } from './jobs.ts';
import { compressModel } from './pipeline.ts';
import { registerStageRunner } from './stage.ts';
import { WorkingModel } from './weights.ts';

interface ScaleStage extends StageSpec {
  kind: 'scale';
  factor: number;
}

/** What the toy stage saw at each step: its layers and the statistics it was handed. */
const seen: { step: number; layerIds: string[]; stats?: CalibrationStats }[] = [];

registerStageKind<ScaleStage>({
  kind: 'scale',
  defaults: () => ({ kind: 'scale', factor: 2 }),
  parse: (fields) => ({ kind: 'scale', factor: fields.number('factor', 2) }),
  validate: (stage) => (stage.factor === 0 ? [{ field: 'factor', message: 'must not be 0' }] : []),
  layers: (_, analysis) => prunableLayers(analysis, { layers: { includeHead: false, skip: [] } }),
  needs: () => ({ dense: [], step: ['sqNorm'] }),
  describe: (stage) => `scale by ${stage.factor}`,
});

registerStageRunner<ScaleStage>({
  kind: 'scale',
  async start(stage, context) {
    return {
      async apply(step) {
        seen.push({ step: step.index, layerIds: step.layers.map((l) => l.id), stats: step.stats });
        for (const layer of step.layers) {
          const weight = context.working.readWeight(layer);
          context.working.writeWeight(layer, { ...weight, data: weight.data.map((w) => w * stage.factor) });
        }
      },
      finish: () => ({ kind: 'scale', index: context.index, summary: `scale by ${stage.factor}`, layers: [], ms: 0 }),
    };
  },
});

const vit = bundledModel('digits-vit');
const prune = { kind: 'prune', method: 'sparsegpt' };
const recipe = (mode: 'one-pass' | 'sequential', stages: unknown[]) => parseRecipe({ version: 2, seed: 1, calibration: { samples: 8, mode }, stages });

function recordingPool(jobs: PruneJob[]): PruneLayerFn {
  return async (job) => {
    jobs.push(job);
    return runPruneJob(structuredClone(job));
  };
}

describe('a stage kind registered outside the pipeline', () => {
  test('parses and validates with field paths like a built-in kind', () => {
    expect(recipe('one-pass', [prune, { kind: 'scale', factor: 3 }]).stages[1]).toEqual({ kind: 'scale', factor: 3 });
    expect(() => recipe('one-pass', [{ kind: 'scale', bogusField: 1 }])).toThrow('invalid recipe: stages[0].bogusField: unknown field');
    expect(validateRecipe(recipe('one-pass', [prune, { kind: 'scale', factor: 0 }]), vit.analysis)).toEqual(['stages[1].factor: must not be 0']);
  });

  test('one-pass: prune then scale gives exactly 2× the pruned weights, on one dense pass', async () => {
    seen.length = 0;
    const pruned = await compressModel({ model: vit.model, analysis: vit.analysis, recipe: recipe('one-pass', [prune]), calibSet: vit.calib, createRunner: openRunner });
    const { open, counts } = countingRunnerFactory();
    const both = await compressModel({ model: vit.model, analysis: vit.analysis, recipe: recipe('one-pass', [prune, { kind: 'scale', factor: 2 }]), calibSet: vit.calib, createRunner: open });
    expect(counts.created).toBe(1);
    expect(both.report.calibration?.passes).toBe(1);
    expect(both.report.stages.map((s) => s.summary)).toEqual(['sparsegpt, unstructured, 50.0% target, uniform allocation', 'scale by 2']);
    expect(seen).toHaveLength(1);
    const once = new WorkingModel(pruned.model);
    const twice = new WorkingModel(both.model);
    for (const layer of prunableLayers(vit.analysis, { layers: { includeHead: false, skip: [] } })) {
      expect(twice.readWeight(layer).data).toEqual(once.readWeight(layer).data.map((w) => 2 * w));
    }
  });

  test('sequential: one calibration pass per block serves both stages; later blocks see block 0 pruned and scaled', async () => {
    seen.length = 0;
    const jobs: PruneJob[] = [];
    const { open, counts } = countingRunnerFactory();
    const both = await compressModel({ model: vit.model, analysis: vit.analysis, recipe: recipe('sequential', [prune, { kind: 'scale' }]), calibSet: vit.calib, createRunner: open, pruneLayer: recordingPool(jobs) });
    // As for the prune stage alone: the prefix once, 4 block statistics runs, 3 boundary runs.
    expect(counts).toEqual({ created: 1 + 4 + 3, released: 1 + 4 + 3 });
    expect(both.report.calibration?.passes).toBe(4);
    expect(seen.map((s) => s.step)).toEqual([0, 1, 2, 3]);
    for (const { stats, layerIds } of seen) {
      for (const id of layerIds) {
        // The very arrays the prune job got: collected once, not once per stage.
        expect(stats!.layers.get(id)!.sqNorm).toBe(jobs.find((j) => j.layerId === id)!.sqNorm);
        expect(stats!.layers.get(id)!.hessian).toBe(jobs.find((j) => j.layerId === id)!.hessian);
      }
    }
    const pruneOnly: PruneJob[] = [];
    await compressModel({ model: vit.model, analysis: vit.analysis, recipe: recipe('sequential', [prune]), calibSet: vit.calib, createRunner: openRunner, pruneLayer: recordingPool(pruneOnly) });
    const hessianOf = (list: PruneJob[], id: string) => Buffer.from(list.find((j) => j.layerId === id)!.hessian!.buffer);
    expect(hessianOf(jobs, seen[0].layerIds[0]).equals(hessianOf(pruneOnly, seen[0].layerIds[0]))).toBe(true);
    expect(hessianOf(jobs, seen[1].layerIds[0]).equals(hessianOf(pruneOnly, seen[1].layerIds[0]))).toBe(false);
  });

  test('a kind with a parser but no runner, or no kind at all, is refused before any work', async () => {
    registerStageKind({ kind: 'orphan', defaults: () => ({ kind: 'orphan' }), parse: () => ({ kind: 'orphan' }), validate: () => [], layers: () => [], needs: () => ({ dense: [], step: [] }), describe: () => 'orphan' });
    await expect(compressModel({ model: vit.model, analysis: vit.analysis, recipe: recipe('one-pass', [{ kind: 'orphan' }]) })).rejects.toThrow('invalid recipe: stages[0].kind: no runner for stage kind "orphan" in this build');
    const unknown = { ...recipe('one-pass', [prune]), stages: [{ kind: 'quantise' }] };
    await expect(compressModel({ model: vit.model, analysis: vit.analysis, recipe: unknown })).rejects.toThrow(RecipeError);
  });
});
