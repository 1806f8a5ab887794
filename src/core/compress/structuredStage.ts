// The `structured` stage's runner (recipe/stages/structured.ts): calibrate, build each block's
// error database (ZipLM) or importances and scores (CFSP), plan the kept counts for the target
// (parameters, or predicted latency from a latency table measured on the run's backend), and
// export the sliced model (src/core/structured). A ReshapingStageRunner: the pipeline hands it the
// model as the stages before left it and re-analyses what it returns (docs/structured.md).
import { instrumentModel } from '../calibrate/instrument.ts';
import { calibrationFeeds } from '../calibrate/feeds.ts';
import type { LayerStats, Matrix } from '../prune/types.ts';
import { throwIfCancelled } from '../job/cancel.ts';
import { blockLatencyMs, latencySpecOf, measureLatencyTable, predictModelMs, type LatencyTable } from '../latency/index.ts';
import type { LinearLayer, ModelAnalysis } from '../model/types.ts';
import { writeModel } from '../onnx/write.ts';
import { RecipeError } from '../recipe/parse.ts';
import { removesHeads, removesNeurons, type StructuredStage } from '../recipe/stages/structured.ts';
import type { StructuredTarget } from '../recipe/stages/structured.ts';
import { structuredBlocks, type StructuredBlock } from '../structured/blocks.ts';
import { blockBoundaries } from '../structured/boundaries.ts';
import { angularInfluence, cfspKeepFractions, cfspKeptCount, cfspNeuronScores, topNeurons } from '../structured/cfsp.ts';
import { defaultNeuronMultiple } from '../structured/plan.ts';
import { floorKeep, smallestFitting, variableParams, zipLmPlan, type BlockErrors, type BlockKeep, type StructuredCost } from '../structured/search.ts';
import { linearParams, sliceStructures, type StructuredKeep } from '../structured/slice.ts';
import { obsRemove, relativeOutputError, structuredObs } from '../structured/ziplm.ts';
import { reshapeCalibration } from './calibration.ts';
import type { ReshapeContext, ReshapeStageReport, ReshapingStageRunner } from './stage.ts';
import { weightFromStored } from './weights.ts';
import { tensorToFloat32 } from '../onnx/tensor.ts';
import { initializerMap } from '../onnx/graph.ts';

/** One block's planned kept counts. */
export interface StructuredBlockPlan {
  block: number;
  /** Query heads kept of the block's heads (a GQA model keeps whole key-value groups). */
  heads: { kept: number; of: number };
  neurons: { kept: number; of: number };
  /** The block's share of the plan's cost (parameters or predicted ms). */
  cost: number;
  /** ZipLM: the database's OBS error at these counts; CFSP: null. */
  error: number | null;
}

export interface StructuredStageReport extends ReshapeStageReport {
  kind: 'structured';
  plan: {
    method: StructuredStage['method'];
    target: StructuredTarget;
    unit: 'parameters' | 'ms';
    /** The budget on Σ cost and what the plan spends. */
    budget: number;
    cost: number;
    /** For a speedup target: the latency table's predictions (ms per forward pass, on `backend`). */
    predicted?: { denseMs: number; plannedMs: number; speedup: number; floorSpeedup: number; backend: string };
    /** CFSP: the global pruning ratio the search settled on, and each block's importance. */
    cfsp?: { ratio: number; importances: number[] };
    blocks: StructuredBlockPlan[];
  };
}

export const isStructuredStageReport = (report: { kind: string }): report is StructuredStageReport => report.kind === 'structured' && 'plan' in report;

const now = () => performance.now();
const fieldError = (index: number, field: string, message: string) => new RecipeError([`stages[${index}].${field}: ${message}`]);

function readWeight(context: ReshapeContext, layer: LinearLayer): Matrix {
  const tensor = initializerMap(context.model.graph!).get(layer.weight);
  if (!tensor) throw new Error(`${layer.name}: weight is not an initializer`);
  return weightFromStored(layer, tensorToFloat32(tensor));
}

/** The cost model and budget of a sparsity or size target. */
function parameterCost(stage: StructuredStage, index: number, blocks: readonly StructuredBlock[], analysis: ModelAnalysis, floor: (b: StructuredBlock) => BlockKeep): StructuredCost {
  const full = blocks.reduce((s, b) => s + variableParams(b, { groups: b.attention?.kvHeads ?? 0, neurons: b.mlp?.neurons ?? 0 }), 0);
  const least = blocks.reduce((s, b) => s + variableParams(b, floor(b)), 0);
  const total = linearParams(analysis);
  const t = stage.target;
  const budget = t.kind === 'sparsity' ? (1 - t.sparsity) * full : t.kind === 'size' ? t.size * total - (total - full) : NaN;
  if (budget < least) {
    const field = t.kind === 'sparsity' ? 'target.sparsity' : 'target.size';
    const reachable = t.kind === 'sparsity' ? `at most ${(1 - least / full).toFixed(3)} of the structured parameters can go` : `the smallest plan keeps ${((total - full + least) / total).toFixed(3)} of the linear parameters`;
    throw fieldError(index, field, `${t.kind === 'sparsity' ? t.sparsity : (t as { size: number }).size} cannot be met: with at least one head group and ${stage.remove === 'heads' ? 'every neuron' : 'one neuron multiple'} per block, ${reachable}`);
  }
  return { unit: 'parameters', cost: (b, keep) => variableParams(b, keep), budget };
}

/** The latency table for the model on the run's backend, and the cost model of a speedup target. */
async function latencyCost(stage: StructuredStage, context: ReshapeContext, blocks: readonly StructuredBlock[], floor: (b: StructuredBlock) => BlockKeep): Promise<{ cost: StructuredCost; table: LatencyTable; denseMs: number; floorSpeedup: number }> {
  const speedup = (stage.target as { speedup: number }).speedup;
  // The window the table is timed on: the model's position table, else the calibration windows (a rotary Llama has no table).
  const windowed = context.calibSet?.kind === 'lm-tokens' ? { seq: context.calibSet.seqLen } : {};
  const spec = latencySpecOf(context.analysis, context.analysis.embeddings.some((e) => e.kind === 'position') ? {} : windowed);
  if (!spec.ok) throw fieldError(context.index, 'target.speedup', `needs a latency table: ${spec.message}`);
  if (!context.createRunner) throw fieldError(context.index, 'target.speedup', 'needs sessions to measure the latency table (pass createRunner)');
  context.onProgress({ phase: 'structured', label: 'measuring the latency table', done: 0, total: 1, stage: context.index });
  const table = await measureLatencyTable(spec.spec, context.createRunner, { cancel: context.cancel, statistic: 'min', onProgress: (p) => context.onProgress({ ...p, stage: context.index }) });
  const groupSize = (b: StructuredBlock) => b.attention?.groupSize ?? 1;
  const blockMs = (b: StructuredBlock, keep: BlockKeep) => blockLatencyMs(table, b.attention ? keep.groups * groupSize(b) : spec.spec.heads, b.mlp ? keep.neurons : spec.spec.mlpWidth);
  const denseMs = predictModelMs(table, blocks.map(() => ({ heads: spec.spec.heads, neurons: spec.spec.mlpWidth })));
  const fixed = table.overheadMs + table.restMs;
  const floorMs = fixed + blocks.reduce((s, b) => s + blockMs(b, floor(b)), 0);
  const floorSpeedup = denseMs / floorMs;
  if (speedup > floorSpeedup) {
    throw fieldError(context.index, 'target.speedup', `${speedup}× cannot be met on ${table.backend}: the measured floor is ${floorSpeedup.toFixed(2)}× (every block at its fewest heads and neurons; the embeddings, norms and output head cost ${fixed.toFixed(2)} ms of ${denseMs.toFixed(2)} ms)`);
  }
  return { cost: { unit: 'ms', cost: blockMs, budget: denseMs / speedup - fixed }, table, denseMs, floorSpeedup };
}

interface Chosen {
  keep: BlockKeep[];
  errors: (number | null)[];
  /** ZipLM: the consumers' calibration statistics (their Hessians), and each consumer's removal order. */
  hessians?: Map<string, LayerStats>;
  orders?: Map<string, number[]>;
  /** CFSP: each block's neuron scores, and the global ratio with the block importances. */
  neuronScores?: Float64Array[];
  cfsp?: { ratio: number; importances: number[] };
}

/** ZipLM: each block's error database from its consumers' Hessians, then the least-error plan. */
async function zipLm(stage: StructuredStage, context: ReshapeContext, blocks: StructuredBlock[], cost: StructuredCost, multiple: number): Promise<Chosen> {
  const consumers = blocks.flatMap((b) => [removesHeads(stage) ? b.attention!.out : null, removesNeurons(stage) ? b.mlp!.down : null]).filter((l): l is LinearLayer => l !== null);
  const stats = await reshapeCalibration(context, consumers).pass(context.model, consumers, new Set(['hessian']), { label: 'structured: Hessians of the output and down projections', step: { index: 0, count: 1 } });
  const errors: BlockErrors[] = [];
  const orders = new Map<string, number[]>();
  for (const [i, b] of blocks.entries()) {
    throwIfCancelled(context.cancel, 'compression');
    context.onProgress({ phase: 'structured', label: `block ${b.block}: ZipLM database`, done: i, total: blocks.length, stage: context.index });
    const database = (layer: LinearLayer, size: number, count: number, least: number) => {
      const obs = structuredObs(readWeight(context, layer), stats.layers.get(layer.id)!.hessian, { size, dampening: stage.dampening, remove: count - least });
      orders.set(layer.id, obs.order);
      // error by kept count: kept = count − removed
      const byKept = new Float64Array(count + 1).fill(Number.NaN);
      obs.error.forEach((e, removed) => (byKept[count - removed] = e));
      return byKept;
    };
    const a = removesHeads(stage) ? b.attention! : null;
    const m = removesNeurons(stage) ? b.mlp! : null;
    errors.push({
      heads: a ? database(a.out, a.groupSize * a.headDim, a.kvHeads, 1) : null,
      neurons: m ? database(m.down, 1, m.neurons, Math.min(multiple, m.neurons)) : null,
    });
  }
  const plan = zipLmPlan(blocks, errors, cost, multiple);
  if (plan === null) throw fieldError(context.index, 'target', 'no plan fits the budget (the rounding of costs to the search grid left none)');
  return { keep: plan.chosen.map((o) => o.kept), errors: plan.chosen.map((o) => o.error), hessians: stats.layers, orders };
}

/** CFSP: block importances from the hidden states, neuron scores from the down projections' inputs. */
async function cfsp(context: ReshapeContext, blocks: StructuredBlock[], cost: StructuredCost, multiple: number): Promise<Chosen> {
  const downs = blocks.map((b) => b.mlp!.down);
  const calibration = reshapeCalibration(context, downs);
  const stats = await calibration.pass(context.model, downs, new Set(['sqNorm']), { label: 'structured: CFSP activation norms', step: { index: 0, count: 1 } });
  const boundaries = blockBoundaries(context.model, context.analysis);
  if (typeof boundaries === 'string') throw fieldError(context.index, 'method', `CFSP needs each block's input and output hidden states: ${boundaries}`);
  // One session that returns every block boundary (the reference's layer-by-layer inps/outs of the dense model).
  const tensors = [...new Set(boundaries.flatMap((x) => [x.input, x.output]))];
  const runner = await context.createRunner!(writeModel(instrumentModel(context.model, tensors)));
  const importances = new Array<number>(blocks.length).fill(0);
  let tokens = 0;
  try {
    const batch = context.recipe.calibration.batchSize;
    const samples = calibration.sampleIndices;
    for (let s = 0; s < samples.length; s += batch) {
      throwIfCancelled(context.cancel, 'compression');
      context.onProgress({ phase: 'structured', label: 'CFSP: block input and output angles', done: s, total: samples.length, stage: context.index });
      const out = await runner.run(calibrationFeeds(context.calibSet!, samples.slice(s, s + batch), context.analysis.inputs), tensors);
      blocks.forEach((b, i) => {
        const boundary = boundaries.find((x) => x.block === b.block)!;
        const input = out[boundary.input].data as Float32Array;
        const dim = out[boundary.input].dims.at(-1)!;
        importances[i] += angularInfluence(input, out[boundary.output].data as Float32Array, dim);
        if (i === 0) tokens += input.length / dim;
      });
    }
  } finally {
    await runner.release();
  }
  // The reference divides the centred importances by 1e4 with sums over 128 samples × 2048 tokens;
  // scaling the divisor with the tokens seen keeps the same sharpness on the lab's smaller sets.
  const scale = (1e4 * tokens) / (128 * 2048);
  const scores = blocks.map((b) => {
    const m = b.mlp!;
    const sq = stats.layers.get(m.down.id)!.sqNorm;
    return cfspNeuronScores({ down: readWeight(context, m.down), up: readWeight(context, m.up), gate: m.gate ? readWeight(context, m.gate) : null, scalerRow: Float64Array.from(sq, (v) => v / stats.samples) });
  });
  const keepAt = (ratio: number): BlockKeep[] => {
    const { keep } = cfspKeepFractions(importances, ratio, { scale });
    return blocks.map((b, i) => ({ groups: b.attention?.kvHeads ?? 0, neurons: cfspKeptCount(b.mlp!.neurons, keep[i], multiple) }));
  };
  const spend = (keep: BlockKeep[]) => blocks.reduce((s, b, i) => s + cost.cost(b, keep[i]), 0);
  const ratio = smallestFitting((r) => spend(keepAt(r)) <= cost.budget, 0.99);
  if (ratio === null) throw fieldError(context.index, 'target', 'CFSP cannot meet the target: even a global pruning ratio of 0.99 leaves more than the budget');
  const keep = keepAt(ratio);
  return { keep, errors: keep.map(() => null), neuronScores: scores, cfsp: { ratio, importances } };
}

export const structuredStageRunner: ReshapingStageRunner<StructuredStage> = {
  kind: 'structured',
  async reshape(stage, context) {
    const started = now();
    const { analysis, model, index } = context;
    const blocks = structuredBlocks(analysis, { heads: removesHeads(stage), neurons: removesNeurons(stage) });
    if (typeof blocks === 'string') throw fieldError(index, 'remove', `cannot remove ${stage.remove} from this model: ${blocks}`);
    const widths = blocks.map((b) => b.mlp?.neurons ?? 0).filter((n) => n > 0);
    const multiple = stage.neuronMultiple === 'auto' ? (widths.length ? Math.min(...widths.map(defaultNeuronMultiple)) : 1) : stage.neuronMultiple;
    const floor = (b: StructuredBlock) => floorKeep(b, removesHeads(stage), removesNeurons(stage), multiple);
    let latency: Awaited<ReturnType<typeof latencyCost>> | undefined;
    let cost: StructuredCost;
    if (stage.target.kind === 'speedup') {
      latency = await latencyCost(stage, context, blocks, floor);
      cost = latency.cost;
    } else {
      cost = parameterCost(stage, index, blocks, analysis, floor);
    }
    const chosen = stage.method === 'ziplm' ? await zipLm(stage, context, blocks, cost, multiple) : await cfsp(context, blocks, cost, multiple);

    // The kept structures and the consumers' weights: the first (count − kept) structures of the
    // database's removal order, removed at once with the OBS update (obsRemove: the same W the
    // greedy loop reaches at that level).
    const keep: StructuredKeep = { groups: new Map(), neurons: new Map(), consumerWeights: new Map() };
    const errors = new Map<string, number>();
    const obsKeep = (layer: LinearLayer, size: number, count: number, kept: number): number[] => {
      const hessian = chosen.hessians!.get(layer.id)!.hessian;
      const before = readWeight(context, layer);
      const removed = new Set(chosen.orders!.get(layer.id)!.slice(0, count - kept));
      const keptIdx = Array.from({ length: count }, (_, s) => s).filter((s) => !removed.has(s));
      const columns = [...removed].flatMap((s) => Array.from({ length: size }, (_, k) => s * size + k));
      const after = stage.update ? obsRemove(before, hessian, columns, stage.dampening) : zeroColumns(before, size, removed);
      errors.set(layer.id, relativeOutputError(before, after, hessian));
      (keep.consumerWeights as Map<string, Matrix>).set(layer.id, selectColumns(after, keptIdx.flatMap((s) => Array.from({ length: size }, (_, k) => s * size + k))));
      return keptIdx;
    };
    for (const [i, b] of blocks.entries()) {
      const k = chosen.keep[i];
      const a = b.attention;
      if (removesHeads(stage) && a && k.groups < a.kvHeads) (keep.groups as Map<number, number[]>).set(b.block, obsKeep(a.out, a.groupSize * a.headDim, a.kvHeads, k.groups));
      const m = b.mlp;
      if (removesNeurons(stage) && m && k.neurons < m.neurons) {
        const kept = chosen.neuronScores ? topNeurons(chosen.neuronScores[i], k.neurons) : obsKeep(m.down, 1, m.neurons, k.neurons);
        (keep.neurons as Map<number, number[]>).set(b.block, kept);
      }
    }
    const sliced = sliceStructures(model, blocks, keep, index);
    const reshaped = sliced.reshaped.map((row) => ({ ...row, relativeError: errors.get(row.id) ?? null }));
    const linearParamsBefore = linearParams(analysis);
    const linearParamsAfter = linearParamsBefore - reshaped.reduce((s, r) => s + r.paramsBefore - r.paramsAfter, 0);
    // Counts of the structures the stage does not remove come from the analysis (they stay as they are).
    const headsOf = (block: number) => analysis.attention.find((site) => site.block === block)?.heads ?? 0;
    const neuronsOf = (block: number) => analysis.linears.find((l) => l.block === block && l.role === 'mlp.down')?.inFeatures ?? 0;
    const planBlocks: StructuredBlockPlan[] = blocks.map((b, i) => ({
      block: b.block,
      heads: b.attention ? { kept: chosen.keep[i].groups * b.attention.groupSize, of: b.attention.heads } : { kept: headsOf(b.block), of: headsOf(b.block) },
      neurons: b.mlp ? { kept: chosen.keep[i].neurons, of: b.mlp.neurons } : { kept: neuronsOf(b.block), of: neuronsOf(b.block) },
      cost: cost.cost(b, chosen.keep[i]),
      error: chosen.errors[i],
    }));
    const spent = planBlocks.reduce((s, p) => s + p.cost, 0);
    const predicted = latency
      ? (() => {
          const plannedMs = spent + latency.table.overheadMs + latency.table.restMs;
          return { denseMs: latency.denseMs, plannedMs, speedup: latency.denseMs / plannedMs, floorSpeedup: latency.floorSpeedup, backend: latency.table.backend };
        })()
      : undefined;
    const kept = [removesHeads(stage) ? `heads kept per block ${planBlocks.map((p) => p.heads.kept).join(', ')} of ${planBlocks[0]?.heads.of}` : '', removesNeurons(stage) ? `neurons kept per block ${planBlocks.map((p) => p.neurons.kept).join(', ')} of ${planBlocks[0]?.neurons.of}` : ''].filter(Boolean).join('; ');
    const summary = `${stage.method === 'ziplm' ? 'ZipLM' : `CFSP (global ratio ${chosen.cfsp?.ratio.toFixed(3)})`}: ${kept}; linear parameters ${linearParamsBefore} → ${linearParamsAfter} (${((linearParamsAfter / linearParamsBefore) * 100).toFixed(1)} %)${predicted ? `; predicted ${predicted.speedup.toFixed(2)}× on ${predicted.backend} (${predicted.denseMs.toFixed(2)} → ${predicted.plannedMs.toFixed(2)} ms)` : ''}`;
    const report: StructuredStageReport = {
      kind: 'structured',
      index,
      summary,
      layers: [],
      ms: now() - started,
      reshaped,
      linearParamsBefore,
      linearParamsAfter,
      plan: { method: stage.method, target: stage.target, unit: cost.unit, budget: cost.budget, cost: spent, ...(predicted ? { predicted } : {}), ...(chosen.cfsp ? { cfsp: chosen.cfsp } : {}), blocks: planBlocks },
    };
    return { model: sliced.model, report };
  },
};

function zeroColumns(w: Matrix, size: number, removed: Set<number>): Matrix {
  const data = Float32Array.from(w.data);
  for (let r = 0; r < w.rows; r++) for (const s of removed) for (let k = 0; k < size; k++) data[r * w.cols + s * size + k] = 0;
  return { ...w, data };
}

function selectColumns(w: Matrix, cols: readonly number[]): Matrix {
  const data = new Float32Array(w.rows * cols.length);
  for (let r = 0; r < w.rows; r++) cols.forEach((c, j) => (data[r * cols.length + j] = w.data[r * w.cols + c]));
  return { rows: w.rows, cols: cols.length, data };
}
