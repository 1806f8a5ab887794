// The `slice` stage's runner (recipe/stages/slice.ts): SliceGPT on the model the earlier stages
// left (src/core/slice), calibrated with the run's samples — one session per stream site, each on
// the model as sliced so far (calibration.ts tensorGram) — and reported as LayerShapeReport rows.
// The residual shortcut matrices it adds are linear layers of the new model and are counted in
// linearParamsAfter, each with a row of its own.
import { throwIfCancelled } from '../job/cancel.ts';
import { analyzeModel } from '../model/analyze.ts';
import type { LinearLayer } from '../model/types.ts';
import { initializerMap } from '../onnx/graph.ts';
import { tensorDims } from '../onnx/tensor.ts';
import { RecipeError } from '../recipe/parse.ts';
import type { SliceStage } from '../recipe/stages/slice.ts';
import { sliceModel, SliceError, type SliceResult } from '../slice/slicegpt.ts';
import { findResidualStream } from '../slice/structure.ts';
import { reshapeCalibration } from './calibration.ts';
import { shapeRowOf, type LayerShapeReport } from './report.ts';
import type { ReshapingStageRunner, ReshapeStageReport } from './stage.ts';

const now = () => performance.now();
const percent = (x: number) => `${(Math.round(x * 1000) / 10).toFixed(1)} %`;

function shapeRows(result: SliceResult, before: readonly LinearLayer[], after: readonly LinearLayer[], stage: number): LayerShapeReport[] {
  const afterById = new Map(after.map((l) => [l.id, l]));
  const rows: LayerShapeReport[] = [];
  for (const layer of before) {
    const sliced = afterById.get(layer.id) ?? after.find((l) => l.name === layer.name);
    if (sliced === undefined) continue;
    const changed = sliced.inFeatures !== layer.inFeatures || sliced.outFeatures !== layer.outFeatures;
    const side = sliced.inFeatures !== layer.inFeatures ? `input ${layer.inFeatures} → ${sliced.inFeatures}` : sliced.outFeatures !== layer.outFeatures ? `output ${layer.outFeatures} → ${sliced.outFeatures}` : 'rotated, width kept';
    rows.push({
      ...shapeRowOf(layer, stage),
      after: [sliced.outFeatures, sliced.inFeatures],
      change: 'slice',
      paramsAfter: sliced.params,
      relativeError: null,
      detail: changed ? `${side} (rotated onto the stream's principal directions)` : side,
    });
  }
  for (const shortcut of result.graph.shortcuts) {
    const layer = after.find((l) => l.weight === shortcut.name);
    rows.push({
      id: shortcut.name,
      name: layer?.name ?? shortcut.name,
      block: shortcut.block,
      role: layer?.role ?? 'other',
      stage,
      before: [0, 0],
      after: [shortcut.cols, shortcut.rows],
      change: 'slice',
      paramsBefore: 0,
      paramsAfter: shortcut.rows * shortcut.cols,
      relativeError: null,
      detail: `new: the ${shortcut.where === 'attention' ? 'attention' : 'MLP'} residual's shortcut Q_aᵀQ_b (${shortcut.rows} × ${shortcut.cols})`,
    });
  }
  return rows;
}

export const sliceStageRunner: ReshapingStageRunner<SliceStage> = {
  kind: 'slice',
  async reshape(stage, context) {
    const start = now();
    const { model, analysis, index } = context;
    // The graph-level checks (norm kinds, residual Adds, embeddings) before any calibration.
    const found = findResidualStream(model, analysis);
    if (!found.ok) throw new RecipeError([`stages[${index}]: SliceGPT cannot run on this model: ${found.problem}`]);
    const calibration = reshapeCalibration(context, []);
    const calibrationBefore = calibration.elapsedMs;
    const options = { keep: stage.keep, rounding: stage.rounding, sliceHead: stage.sliceHead };
    let result: SliceResult;
    try {
      result = await sliceModel(model, analysis, options, async (current, tensor, width) => {
        throwIfCancelled(context.cancel, 'slice');
        const sites = 2 * found.stream.blocks.length + 1;
        const site = [found.stream.blocks[0].input, ...found.stream.blocks.flatMap((b) => [b.middle, b.output])].indexOf(tensor);
        const label = `SliceGPT: principal directions of the residual stream, site ${site + 1} of ${sites}`;
        const { gram } = await calibration.tensorGram(current, tensor, width, { label, step: { index: site, count: sites } });
        return gram;
      });
    } catch (error) {
      if (error instanceof SliceError) throw new RecipeError([`stages[${index}]: ${error.message}`]);
      throw error;
    }
    const newAnalysis = analyzeModel(result.model);
    const rows = shapeRows(result, analysis.linears, newAnalysis.linears, index);
    const linearParamsBefore = analysis.linears.reduce((n, l) => n + l.params, 0);
    const linearParamsAfter = newAnalysis.linears.reduce((n, l) => n + l.params, 0);
    const shortcutParams = result.graph.shortcuts.reduce((n, s) => n + s.rows * s.cols, 0);
    const [inits, newInits] = [initializerMap(model.graph!), initializerMap(result.model.graph!)];
    const embeddingParams = (map: typeof inits) => found.stream.embeddings.reduce((n, e) => n + tensorDims(map.get(e.table)!).reduce((a, b) => a * b, 1), 0);
    const [embeddingsBefore, embeddingsAfter] = [embeddingParams(inits), embeddingParams(newInits)];
    const kept = result.sites.map((s) => s.keptVariance);
    context.notes.push(
      `SliceGPT: embedding dimension ${result.hidden} → ${result.width}${stage.sliceHead ? '' : ` (the head's input keeps ${result.hidden}, as the reference's default)`}; ` +
        `linear parameters ${linearParamsBefore.toLocaleString('en-US')} → ${linearParamsAfter.toLocaleString('en-US')}, of which ${shortcutParams.toLocaleString('en-US')} are the ${result.graph.shortcuts.length} residual shortcut matrices the rotation adds; ` +
        `embedding tables ${embeddingsBefore.toLocaleString('en-US')} → ${embeddingsAfter.toLocaleString('en-US')} parameters; ` +
        `calibration variance kept per stream site ${percent(Math.min(...kept))} to ${percent(Math.max(...kept))}.`,
    );
    const head = found.stream.head;
    if (head.sharedWith.length > 0) {
      const untied = newAnalysis.linears.find((l) => l.role === 'head');
      context.notes.push(`SliceGPT: the head shared the token embedding table; it now has its own (${(untied?.params ?? 0).toLocaleString('en-US')} parameters), as the reference's fuse_modules clones it before the tables are rotated differently.`);
    }
    const calibrationMs = calibration.elapsedMs - calibrationBefore;
    const report: ReshapeStageReport = {
      kind: 'slice',
      index,
      summary: `SliceGPT, embedding dimension ${result.hidden} → ${result.width} (keep ${percent(stage.keep)}, rounded to ×${stage.rounding})`,
      layers: [],
      ms: Math.max(0, now() - start - calibrationMs),
      reshaped: rows,
      linearParamsBefore,
      linearParamsAfter,
    };
    return { model: result.model, report };
  },
};
