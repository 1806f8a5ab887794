// `lab run <recipe> <hf-folder>` on the streamed path (docs/hf-memory.md, "Streamed runs in the CLI
// and the page"): the folder is opened lazily (no data file read), compressStreamed reads one
// block's weights at a time by byte range and appends the result to onnx/model{suffix}.onnx_data in
// the export folder as it is produced. Which path runs is chosen here, before any weight is read.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { compressStreamed, streamedProblems, type StreamedOutcome } from '../core/compress/streamed';
import type { LmTokenDataset } from '../core/eval/datasets';
import type { BackendPreference } from '../core/eval/runner';
import { isQuantizeStageReport } from '../core/compress/report';
import { exportDtype } from '../core/hf/exportDtype';
import { DTYPE_SUFFIX, exportFolderFiles, type TransformersDtype } from '../core/hf/exportFolder';
import type { OpenedHfFolder } from '../core/hf/openFolder';
import type { Progress } from '../core/job';
import { readModel, writeModel } from '../core/onnx';
import { resolveModelWeights, weightSources } from '../core/onnx/lazyTensors';
import type { ModelProto } from '../core/onnx/types';
import type { Recipe } from '../core/recipe/types';
import { createRunner } from '../runtime/ort';
import { showPath } from './files';
import { fileWeightSink, fileWeightSource, modelWeightSources } from './weightFiles';

export type RunPath = 'streamed' | 'whole';

/**
 * What one ONNX Runtime session here can take: the model is handed over as one protobuf message,
 * which protobuf caps at 2 GiB (and wasm32's 4 GiB heap must hold it and the session's copy).
 */
export const ONE_SESSION_LIMIT = 2 ** 31 - 1;

/**
 * The path and why: `--streamed` insists (a recipe it cannot run is refused in one line naming
 * the field), `--whole` never streams, and by default a folder with external data streams when
 * the recipe allows it.
 */
export function choosePath(input: { streamed: boolean; whole: boolean; recipePath: string; externalDataBytes: number; problems: string[] }): { path: RunPath; why: string } {
  const { problems } = input;
  if (input.streamed && input.whole) throw new Error('run: --streamed and --whole exclude each other');
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  if (input.streamed) {
    if (problems.length > 0) throw new Error(`${showPath(input.recipePath)}: ${problems[0]}${more}`);
    return { path: 'streamed', why: 'asked for with --streamed' };
  }
  if (input.whole) return { path: 'whole', why: 'asked for with --whole' };
  if (input.externalDataBytes === 0) return { path: 'whole', why: 'the weights are inline in the graph' };
  if (problems.length > 0) return { path: 'whole', why: `the recipe cannot stream: ${problems[0]}${more}` };
  return { path: 'streamed', why: 'the weights are in external data and the recipe runs block by block' };
}

export function recipeStreamProblems(opened: OpenedHfFolder, recipe: Recipe, calib: LmTokenDataset): string[] {
  return streamedProblems({ recipe, analysis: opened.analysis, calibSet: calib, createRunner: async () => Promise.reject(new Error('unused')) });
}

/** The graph with every external reference pointing at `location` (one data file). */
function relocated(model: ModelProto, location: string): ModelProto {
  const graph = model.graph!;
  const initializer = (graph.initializer ?? []).map((t) => (t.externalData ? { ...t, externalData: t.externalData.map((e) => (e.key === 'location' ? { ...e, value: location } : e)) } : t));
  return { ...model, graph: { ...graph, initializer } };
}

export interface StreamedRun {
  outcome: StreamedOutcome;
  dtype: TransformersDtype;
  /** The folder the graph and data were written to: the export folder, or a scratch folder (`scratch`). */
  folder: string;
  scratch: boolean;
  files: string[];
  /** The dense and compressed graphs inline for one session each, or why they are not evaluated. */
  evaluation: { dense: Uint8Array; compressed: Uint8Array } | { skipped: string };
}

export async function runStreamed(input: { folder: string; opened: OpenedHfFolder; recipe: Recipe; calib: LmTokenDataset; backend: BackendPreference; exportFolder?: string; onProgress: (p: Progress) => void }): Promise<StreamedRun> {
  const { opened, recipe, backend } = input;
  const modelPath = join(input.folder, opened.plan.model.path);
  const out = input.exportFolder ?? mkdtempSync(join(tmpdir(), 'lab-streamed-'));
  mkdirSync(join(out, 'onnx'), { recursive: true });
  // The dtype (hence the file name) is known only once the stages ran: written under a working
  // name, renamed, and the graph's references pointed at the final name.
  const working = join(out, 'onnx', 'model.streaming.onnx_data');
  const sources = await modelWeightSources(opened.model, dirname(modelPath));
  let outcome: StreamedOutcome;
  try {
    const sink = await fileWeightSink(working);
    outcome = await compressStreamed({
      model: opened.model,
      analysis: opened.analysis,
      recipe,
      calibSet: input.calib,
      sourceModel: opened.plan.model.path.replace(/^.*\//, '').replace(/\.onnx$/i, ''),
      createRunner: async (bytes) => (await createRunner(bytes, { backend, numThreads: 1 })).runner,
      sources: weightSources(sources),
      sink,
      onProgress: input.onProgress,
    });
  } catch (error) {
    for (const s of sources) await s.close();
    if (!input.exportFolder) rmSync(out, { recursive: true, force: true });
    throw error;
  }
  const compressedModel = readModel(outcome.onnx);
  const dtype = exportDtype({ quantized: outcome.stages.filter(isQuantizeStageReport).flatMap((stage) => stage.quantized) });
  const graphName = `model${DTYPE_SUFFIX[dtype]}.onnx`;
  renameSync(working, join(out, 'onnx', `${graphName}_data`));
  const graph = relocated(compressedModel, `${graphName}_data`);
  const files = exportFolderFiles({ model: writeModel(graph), externalData: 'streamed', dtype, config: opened.config?.json, copied: opened.copied });
  for (const file of files) {
    mkdirSync(dirname(join(out, file.path)), { recursive: true });
    writeFileSync(join(out, file.path), file.bytes);
  }

  const size = opened.plan.model.size + opened.externalDataBytes;
  const compressedSize = outcome.onnx.byteLength + outcome.dataBytes;
  let evaluation: StreamedRun['evaluation'];
  if (Math.max(size, compressedSize) > ONE_SESSION_LIMIT) {
    evaluation = { skipped: `evaluation skipped: the graph and its data (${Math.max(size, compressedSize).toLocaleString('en')} bytes) exceed what one ONNX Runtime session takes here (2 GiB protobuf)` };
  } else {
    const data = await fileWeightSource(join(out, 'onnx', `${graphName}_data`));
    try {
      const dense = writeModel(await resolveModelWeights(opened.model, weightSources(sources)));
      const compressed = writeModel(await resolveModelWeights(graph, weightSources([data])));
      evaluation = { dense, compressed };
    } finally {
      await data.close();
    }
  }
  for (const s of sources) await s.close();
  const listed = files.map((f) => f.path);
  listed.splice(1, 0, `onnx/${graphName}_data`);
  return { outcome, dtype, folder: out, scratch: input.exportFolder === undefined, files: listed, evaluation };
}

/** The streamed run's report lines (the whole path prints printReport's). */
export function printStreamed(run: StreamedRun): void {
  const { outcome } = run;
  console.log('');
  for (const stage of outcome.stages) console.log(`stage ${stage.index}         ${stage.kind}: ${stage.summary} (${(stage.ms / 1000).toFixed(2)} s)`);
  console.log(`calibration     ${outcome.calibration.samples} samples, seed ${outcome.calibration.seed}, ${outcome.calibration.mode}${outcome.calibration.sequence ? ` (${outcome.calibration.sequence})` : ''}, ${(outcome.calibration.ms / 1000).toFixed(2)} s`);
  console.log(`file            ${(outcome.onnx.byteLength + outcome.dataBytes).toLocaleString('en')} bytes written (graph ${outcome.onnx.byteLength.toLocaleString('en')} + data ${outcome.dataBytes.toLocaleString('en')}; measured)`);
  console.log(`largest read    ${outcome.largestRead.toLocaleString('en')} weight bytes read at once (one block's session or step)`);
  console.log(`time            ${(outcome.timings.totalMs / 1000).toFixed(2)} s total, ${(outcome.timings.calibrationMs / 1000).toFixed(2)} s calibrating`);
  for (const note of outcome.notes) console.log(`note            ${note}`);
}
