// The model worker: parses and analyses a model, runs a staged recipe on it (calibrating through
// onnxruntime-web and fanning per-layer jobs out to a pool of prune workers), and evaluates the
// dense model or a held run's result, and serves the teaching views (text generation, per-image
// predictions) from the same sessions — all off the main thread. It never looks inside the
// recipe: any stage kind the core registers runs here unchanged.
import { checkModelPayloads, externalDataRefs, initializerMap, readModel, resolveExternalData, tensorToFloat32, writeModel, type ModelProto } from '../src/core/onnx';
import { analyzeModel, type ModelAnalysis } from '../src/core/model';
import { datasetHead, evaluatedItems } from '../src/core/eval/datasets';
import { evaluate, evaluateWithSamples } from '../src/core/eval/evaluate';
import type { SampleValues } from '../src/core/eval/samples';
import type { EvalMetrics } from '../src/core/eval/metrics';
import { recordInterval } from '../src/core/experiments/record';
import { sha256Hex } from '../src/core/compress/sha256';
import { generate } from '../src/core/eval/generate';
import { predictImages } from '../src/core/eval/predict';
import type { BackendPreference, BackendReport, ModelRunner } from '../src/core/eval/runner';
import { compressModel, inspectLayerQuant, readStoredLayer, storedNonZero, weightFromStored } from '../src/core/compress';
import { Cancelled, cpuUse, type BackendUse, type ComputeBackend } from '../src/core/job';
import { parseRecipe } from '../src/core/recipe';
import type { AccumulatorFactory } from '../src/core/calibrate';
import { gpuAccumulatorFactory } from '../src/core/calibrate/gpuAccumulator';
import { workerGpu } from './gpuDevice';
import { attentionStats, captureAttention, captureModel } from '../src/core/attention';
import { createRunner, warmUp } from '../src/runtime/ort';
import { latencyWindow, measureRunnersLatency, type ModelLatency } from '../src/core/latency';
import { WorkerPool } from './pool';
import type { PruneLayerRequest, PruneLayerResponse } from './prune.worker';
import type { CaptureModel } from '../src/core/attention';
import { openHfFolder, type HfFolderEntry } from '../src/core/hf/openFolder';
import { hfContextLength } from '../src/core/hf/contextLength';
import type { HfTokenizer } from '../src/core/hf/tokenizer';
import { splitText } from '../src/core/hf/textData';
import { evaluateMaskedLm, maskedEvalMetrics, maskingTokens, splitMaskedText, type MaskedWindow } from '../src/core/hf/maskedLm';
import { MAX_HELD_RUNS, type ModelTarget, type WorkerRequest, type WorkerResponse } from './protocol';

interface ModelSlot {
  bytes: Uint8Array;
  runners: Map<BackendPreference, { runner: ModelRunner; fallbackReason?: string }>;
  /** The last evaluation's per-sample values: a run's evaluation is paired with the dense model's. */
  samples?: SampleValues;
  /** The dense model's measured latency, by backend and window: timed once, beside every run after. */
  latency?: Map<string, ModelLatency>;
  /** The graph's analysis, made on first use (a run's result may have other shapes than the loaded model). */
  analysis?: ModelAnalysis;
  /** The attention view's instrumented copy (capture.ts) and its sessions, made on first use. */
  capture?: { model: CaptureModel; runners: Map<BackendPreference, { runner: ModelRunner; fallbackReason?: string }> };
}

interface LoadedModel {
  model: ModelProto;
  analysis: ModelAnalysis;
  dense: ModelSlot;
  /** Recent runs' results, oldest first: their bytes for sessions, their graphs for the mask view. */
  runs: Map<string, ModelSlot & { model: ModelProto }>;
  /** A Hugging Face folder's tokenizer (tokenizers.js), kept here: the page's text goes through it. */
  tokenizer?: HfTokenizer;
  /** Why no session of the dense model can be opened (opened for analysis only, weights left in their files). */
  tooLarge?: string;
}

let current: LoadedModel | undefined;
const cancelled = new Set<number>();
let pool: WorkerPool<PruneLayerRequest, PruneLayerResponse> | undefined;

function post(msg: WorkerResponse, transfer: Transferable[] = []): void {
  (self as unknown as Worker).postMessage(msg, transfer);
}

async function releaseSlot(slot: ModelSlot | undefined): Promise<void> {
  for (const { runner } of slot?.runners.values() ?? []) await runner.release();
  for (const { runner } of slot?.capture?.runners.values() ?? []) await runner.release();
}

async function handleLoad(req: Extract<WorkerRequest, { type: 'load' }>): Promise<void> {
  let bytes: Uint8Array = new Uint8Array(req.bytes);
  const t0 = performance.now();
  const model = readModel(bytes);
  const external = [...new Set(externalDataRefs(model).map((r) => r.location))];
  let sizeBytes = bytes.byteLength;
  if (external.length > 0) {
    const sideFiles = new Map((req.sideFiles ?? []).map((f) => [f.name, new Uint8Array(f.bytes)]));
    resolveExternalData(model, sideFiles); // throws naming every missing file
    // ORT gets one self-contained model; the size counts the side files.
    bytes = writeModel(model);
    sizeBytes += [...sideFiles.values()].reduce((sum, f) => sum + f.byteLength, 0);
  }
  const analysis = analyzeModel(model);
  const parseMs = performance.now() - t0;
  // The file's identity, as records and share links name it (the bytes as given, before any
  // external data was inlined).
  const sha256 = await sha256Hex(new Uint8Array(req.bytes));
  // Only replace the current model once the new one parsed: a bad file loses nothing.
  await replaceCurrent({ model, analysis, dense: { bytes, runners: new Map() }, runs: new Map() });
  post({ type: 'loaded', jobId: req.jobId, result: { analysis, sizeBytes, externalFiles: external, parseMs, sha256 } });
}

/** The model now loaded, once the new one opened: sessions of the one before are released. */
async function replaceCurrent(next: LoadedModel): Promise<void> {
  if (current) {
    await releaseSlot(current.dense);
    for (const run of current.runs.values()) await releaseSlot(run);
  }
  current = next;
}

/** A dropped File's bytes; one the browser cannot hold is one line naming it and its size. */
async function fileBytes(path: string, file: File): Promise<Uint8Array> {
  try {
    return new Uint8Array(await file.arrayBuffer());
  } catch (e) {
    throw new Error(`${path}: could not be read into memory (${file.size.toLocaleString('en-US')} bytes; ${(e as Error).message.split('\n')[0]})`);
  }
}

/**
 * A Hugging Face folder through openHfFolder (the CLI's function): the plan, the graph with its
 * external data, config.json and tokenizer.json read and checked against the graph. A
 * disagreement refuses the folder, on one line, before the loaded model is touched.
 */
async function handleLoadFolder(req: Extract<WorkerRequest, { type: 'loadFolder' }>): Promise<void> {
  const t0 = performance.now();
  const graphs = new Map<string, Uint8Array>();
  const readPaths = new Set<string>();
  const entries: HfFolderEntry[] = req.entries.map(({ path, file }) => ({
    path,
    size: file.size,
    read: async () => {
      const bytes = await fileBytes(path, file);
      readPaths.add(path);
      if (path.toLowerCase().endsWith('.onnx')) graphs.set(path, bytes); // hashed below, as given
      return bytes;
    },
  }));
  // Too large for one session: the graph keeps its external references and no data file is read.
  const opened = await openHfFolder(entries, { externalData: req.tooLarge ? 'lazy' : 'resolve' });
  if (opened.disagreements.length > 0) throw new Error(opened.disagreements.join('; '));
  const contextLength = opened.config ? hfContextLength(opened.config.json, opened.config.file) : undefined;
  // ORT gets one self-contained model (external data inlined by openHfFolder).
  const bytes = opened.externalDataBytes > 0 && !req.tooLarge ? writeModel(opened.model) : graphs.get(opened.plan.model.path)!;
  const parseMs = performance.now() - t0;
  const sha256 = await sha256Hex(graphs.get(opened.plan.model.path)!);
  const { plan, tokenizer } = opened;
  await replaceCurrent({ model: opened.model, analysis: opened.analysis, dense: { bytes, runners: new Map() }, runs: new Map(), ...(tokenizer ? { tokenizer: tokenizer.tokenizer } : {}), ...(req.tooLarge ? { tooLarge: req.tooLarge } : {}) });
  // The external-data files the graph named (openHfFolder reads only those; none when opened lazily).
  const externalFiles = plan.externalData.filter((f) => req.tooLarge !== undefined || readPaths.has(f.path)).map((f) => f.path.slice(f.path.lastIndexOf('/') + 1));
  post({
    type: 'loaded',
    jobId: req.jobId,
    result: {
      analysis: opened.analysis,
      sizeBytes: plan.model.size + opened.externalDataBytes,
      externalFiles,
      parseMs,
      sha256,
      hf: {
        modelPath: plan.model.path,
        used: [plan.model.path, ...plan.externalData.map((f) => f.path), ...Object.values(plan.pieces).map((f) => f.path)],
        missing: plan.missing,
        notes: [...plan.notes, ...(opened.lmInputs.ok ? [] : [`inputs: ${opened.lmInputs.message}`])],
        ...(opened.config ? { config: opened.config } : {}),
        ...(contextLength !== undefined ? { contextLength } : {}),
        ...(tokenizer ? { tokenizer: { file: tokenizer.file, vocabSize: tokenizer.tokenizer.vocabSize, ...(tokenizer.tokenizer.eosId === undefined ? {} : { eosId: tokenizer.tokenizer.eosId }) } } : {}),
        copied: opened.copied,
      },
    },
  });
}

function prunePool(size: number): WorkerPool<PruneLayerRequest, PruneLayerResponse> {
  if (pool?.size !== size) {
    pool?.terminate();
    pool = new WorkerPool(() => new Worker(new URL('./prune.worker.ts', import.meta.url), { type: 'module', name: 'prune-worker' }), size);
  }
  return pool;
}

/**
 * Where the Hessians accumulate: the CPU (float64, bit-identical to the CLI) unless the run asked
 * for WebGPU; then the GPU kernel if this worker gets a device, else the CPU with the reason.
 */
async function calibrationAccumulator(computeBackend: ComputeBackend): Promise<{ factory?: AccumulatorFactory; use: BackendUse }> {
  if (computeBackend === 'cpu') return { use: cpuUse() };
  const gpu = await workerGpu('model worker (calibration)');
  return 'ctx' in gpu ? { factory: gpuAccumulatorFactory(gpu.ctx), use: { requested: 'webgpu', ran: 'webgpu' } } : { use: cpuUse('webgpu', gpu.reason) };
}

async function handleCompress(req: Extract<WorkerRequest, { type: 'compress' }>): Promise<void> {
  if (!current) throw new Error('No model is loaded');
  if (current.tooLarge) throw new Error(current.tooLarge);
  const loaded = current;
  checkModelPayloads(loaded.model); // as the CLI: a tensor ORT would refuse is never copied into a pruned file
  const workers = prunePool(req.poolSize);
  let nextJob = 0;
  const cancel = { get aborted() { return cancelled.has(req.jobId); } };
  const watcher = setInterval(() => cancel.aborted && workers.cancel(), 50);
  const calibration = await calibrationAccumulator(req.computeBackend);
  try {
    const outcome = await compressModel({
      model: loaded.model,
      analysis: loaded.analysis,
      // Parsed again: a version-1 document (an older page, a saved message) migrates here too.
      recipe: parseRecipe(req.recipe),
      sourceModel: req.sourceModel,
      calibSet: req.calibSet,
      createRunner: async (bytes) => (await createRunner(bytes, { backend: 'wasm', numThreads: req.numThreads, wasmPaths: req.wasmPaths })).runner,
      pruneLayer: async (job) => {
        const response = await workers.run({ jobId: nextJob++, job, backend: req.computeBackend });
        if (response.kind !== 'prune') throw new Error(`prune job ${job.index}: the pool answered with a ${response.kind} result`);
        return response.result;
      },
      // RTN and GPTQ layers of a quantize stage go to the same pool (WebGPU when the run asks for it).
      quantizeLayer: async (job) => {
        const response = await workers.run({ jobId: nextJob++, kind: 'quantize', job, backend: req.computeBackend });
        if (response.kind !== 'quantize') throw new Error(`quantize job ${job.layerId}: the pool answered with a ${response.kind} result`);
        return response.result;
      },
      accumulatorFactory: calibration.factory,
      backends: { calibrationInference: `onnxruntime-web wasm, ${req.numThreads} thread(s)`, hessian: calibration.use },
      cancel,
      onProgress: (progress) => post({ type: 'progress', jobId: req.jobId, progress }),
    });
    loaded.runs.set(req.runId, { bytes: outcome.bytes, model: outcome.model, runners: new Map() });
    for (const [runId, run] of loaded.runs) {
      if (loaded.runs.size <= MAX_HELD_RUNS) break;
      loaded.runs.delete(runId);
      await releaseSlot(run);
    }
    const copy = outcome.bytes.slice().buffer;
    post({ type: 'compressed', jobId: req.jobId, result: { report: outcome.report, bytes: copy } }, [copy]);
  } finally {
    clearInterval(watcher);
  }
}

/** The model a request names, or an error that says why it is not here. */
function targetSlot(target: ModelTarget): ModelSlot & { model?: ModelProto } {
  if (!current) throw new Error('No model is loaded');
  if (target === 'dense' && current.tooLarge) throw new Error(current.tooLarge);
  if (target === 'dense') return current.dense;
  const run = current.runs.get(target.runId);
  if (!run) throw new Error(`The result of ${target.runId} is no longer held (the worker keeps the last ${MAX_HELD_RUNS} runs); run it again`);
  return run;
}

/** What every request that runs a model names: the model, and where and how to run it. */
interface RunRequest {
  jobId: number;
  target: ModelTarget;
  backend: BackendPreference;
  numThreads: number;
  wasmPaths?: string;
}

/** The target's session for the requested backend, created on first use and kept with the slot. */
async function targetRunner(req: RunRequest): Promise<{ runner: ModelRunner; report: BackendReport }> {
  const slot = targetSlot(req.target);
  let entry = slot.runners.get(req.backend);
  if (!entry) {
    const { runner, report } = await createRunner(slot.bytes, { backend: req.backend, numThreads: req.numThreads, wasmPaths: req.wasmPaths });
    entry = { runner, fallbackReason: report.fallbackReason };
    slot.runners.set(req.backend, entry);
  }
  return { runner: entry.runner, report: { requested: req.backend, used: entry.runner.backend, fallbackReason: entry.fallbackReason } };
}

const TIMING_ROUNDS = 5;
const LATENCY_REPEATS = 20;

async function handleTimeInference(req: Extract<WorkerRequest, { type: 'timeInference' }>): Promise<void> {
  const dense = await targetRunner({ ...req, target: 'dense' });
  const run = await targetRunner({ ...req, target: { runId: req.runId } });
  // One batch of the evaluation set (8 sequences or images): what the timing repeats.
  const batch = datasetHead(req.dataset, 8);
  const items = evaluatedItems(batch);
  const times: [number[], number[]] = [[], []];
  // A warm-up of each, then alternating rounds, so both see the same JIT tier and machine load.
  await evaluate(dense.runner, batch);
  await evaluate(run.runner, batch);
  for (let round = 0; round < TIMING_ROUNDS; round++) {
    for (const [i, { runner }] of [dense, run].entries()) {
      if (cancelled.has(req.jobId)) throw new Cancelled();
      const t0 = performance.now();
      await evaluate(runner, batch);
      times[i].push(performance.now() - t0);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const latency = await windowLatency(req, dense.runner, run.runner).then((l) => ({ latency: l }), (e: Error) => (e instanceof Cancelled ? Promise.reject(e) : { latencyError: e.message }));
  post({ type: 'timed', jobId: req.jobId, result: { denseMsPerItem: median(times[0]) / items, runMsPerItem: median(times[1]) / items, items, rounds: TIMING_ROUNDS, backend: run.report, ...latency } });
}

/**
 * Latency per forward pass of one context window, batch 1 (src/core/latency): the run's now, the
 * dense model's once per backend and window (kept with the dense slot).
 */
async function windowLatency(req: Extract<WorkerRequest, { type: 'timeInference' }>, dense: ModelRunner, run: ModelRunner): Promise<{ dense: ModelLatency; compressed: ModelLatency }> {
  const slot = targetSlot('dense');
  const options = { seq: latencyWindow(current!.analysis), repeats: LATENCY_REPEATS, warmup: 3, cancel: cancelSignal(req.jobId) };
  const key = `${dense.backend}:${options.seq}`;
  slot.latency ??= new Map();
  let denseLatency = slot.latency.get(key);
  if (!denseLatency) {
    [denseLatency] = await measureRunnersLatency([dense], options);
    slot.latency.set(key, denseLatency);
  }
  const [compressed] = await measureRunnersLatency([run], options);
  return { dense: denseLatency, compressed };
}

const cancelSignal = (jobId: number) => ({ get aborted() { return cancelled.has(jobId); } });

/** An encoder's masked-token accuracy on the user's windows (src/core/hf/maskedLm.ts). */
async function evaluateMasked(runner: ModelRunner, windows: MaskedWindow[], seqLen: number): Promise<{ metrics: EvalMetrics; samples: SampleValues }> {
  const samples = await evaluateMaskedLm(runner, windows, seqLen);
  return { metrics: maskedEvalMetrics(samples), samples };
}

async function handleEvaluate(req: Extract<WorkerRequest, { type: 'evaluate' }>): Promise<void> {
  const slot = targetSlot(req.target); // a missing run fails before the progress message
  post({ type: 'progress', jobId: req.jobId, progress: { phase: 'evaluate', label: 'Creating inference session', done: 0, total: 1 } });
  const t0 = performance.now();
  const { runner, report } = await targetRunner(req);
  const t1 = performance.now();
  const { metrics, samples } = req.masked
    ? await evaluateMasked(runner, req.masked.windows, req.masked.seqLen)
    : await evaluateWithSamples(runner, req.dataset, {
        cancel: cancelSignal(req.jobId),
        onProgress: (progress) => post({ type: 'progress', jobId: req.jobId, progress }),
      });
  const evalMs = performance.now() - t1;
  slot.samples = samples;
  // A run against the dense model on the same samples: the change with its paired interval.
  const dense = current?.dense.samples;
  const interval = req.target !== 'dense' && dense && dense.nll.length === samples.nll.length && dense.task === samples.task ? recordInterval(dense, samples, req.seed ?? 0) : undefined;
  post({ type: 'evaluated', jobId: req.jobId, result: { metrics, backend: report, sessionMs: t1 - t0, evalMs, samples, ...(interval ? { interval } : {}) } });
}

async function handleGenerate(req: Extract<WorkerRequest, { type: 'generate' }>): Promise<void> {
  const { runner, report } = await targetRunner(req);
  const t0 = performance.now();
  const generation = await generate(runner, {
    promptIds: req.promptIds,
    maxNewTokens: req.maxNewTokens,
    contextLength: req.contextLength,
    strategy: req.strategy,
    cancel: cancelSignal(req.jobId),
    onProgress: (progress) => post({ type: 'progress', jobId: req.jobId, progress }),
  });
  post({ type: 'generated', jobId: req.jobId, result: { generation, backend: report, generateMs: performance.now() - t0 } });
}

async function handlePredict(req: Extract<WorkerRequest, { type: 'predict' }>): Promise<void> {
  const { runner, report } = await targetRunner(req);
  const predictions = await predictImages(runner, req.dataset, req.indices, { cancel: cancelSignal(req.jobId) });
  post({ type: 'predicted', jobId: req.jobId, result: { predictions, backend: report } });
}

/** A layer of the loaded model and of a held run's result, as the run's file stores it. */
function runLayer(runId: string, layerId: string) {
  const run = targetSlot({ runId });
  // A shape-changing stage (heads, neurons, slices, ranks) left the run's layers other shapes than
  // the loaded model's: read the layer as the run's own graph describes it.
  const analysis = (run.analysis ??= analyzeModel(run.model!));
  const layer = analysis.linears.find((l) => l.id === layerId) ?? current!.analysis.linears.find((l) => l.id === layerId);
  if (!layer) throw new Error(`No layer ${layerId} in the loaded model`);
  return { layer, stored: readStoredLayer(run.model!, layer) };
}

/**
 * One layer's keep mask and |w|, read here from the run's graph the worker already holds: a float
 * weight's non-zeros, or a packed (MatMulNBits) layer's codes against their zero points.
 */
function handleMask(req: Extract<WorkerRequest, { type: 'mask' }>): void {
  const { stored } = runLayer(req.runId, req.layerId);
  const data = storedNonZero(stored);
  // The stored weight is a fresh array of its own, so |w| is taken in place: no second copy.
  const magnitude = stored.weight.data;
  for (let i = 0; i < magnitude.length; i++) magnitude[i] = Math.abs(magnitude[i]);
  post({ type: 'mask', jobId: req.jobId, result: { rows: stored.weight.rows, cols: stored.weight.cols, data, magnitude, storage: stored.storage } }, [data.buffer, magnitude.buffer]);
}

/**
 * The attention view's maps for one input. A run's result is analysed again: a rewrite (ACT, a
 * quantized export) may have renamed or added nodes around the Softmax, and the capture must tap
 * the graph that is actually run.
 */
async function handleAttention(req: Extract<WorkerRequest, { type: 'attention' }>): Promise<void> {
  const slot = targetSlot(req.target);
  if (!slot.capture) {
    const model = slot.model ?? current!.model;
    const analysis = req.target === 'dense' ? current!.analysis : analyzeModel(model);
    slot.capture = { model: captureModel(model, analysis), runners: new Map() };
  }
  const capture = slot.capture;
  if (!capture.model.ok) return post({ type: 'attention', jobId: req.jobId, result: { ok: false, reason: capture.model.reason } });
  let entry = capture.runners.get(req.backend);
  if (!entry) {
    const { runner, report } = await createRunner(capture.model.bytes, { backend: req.backend, numThreads: req.numThreads, wasmPaths: req.wasmPaths });
    entry = { runner, fallbackReason: report.fallbackReason };
    capture.runners.set(req.backend, entry);
  }
  const captured = await captureAttention(entry.runner, capture.model.sites, req.input);
  const backend: BackendReport = { requested: req.backend, used: entry.runner.backend, fallbackReason: entry.fallbackReason };
  // Copied by structured clone, not transferred: ORT may hand several outputs views of one buffer.
  post({ type: 'attention', jobId: req.jobId, result: { ok: true, captured, stats: attentionStats(captured), backend } });
}

/** The weight-histogram view's data: the dense weights (the loaded model) against what the run's file stores. */
function handleQuantLayer(req: Extract<WorkerRequest, { type: 'quantLayer' }>): void {
  const { layer, stored } = runLayer(req.runId, req.layerId);
  const tensor = initializerMap(current!.model.graph!).get(layer.weight);
  if (current!.tooLarge) throw new Error(current!.tooLarge);
  if (!tensor || layer.nBits) throw new Error(`Layer ${layer.name}: the loaded model holds no float weight for it`);
  const dense = weightFromStored(layer, tensorToFloat32(tensor));
  const result = inspectLayerQuant({ layer, dense, stored, method: req.method, mxFormat: req.mxFormat, scope: req.scope });
  post({ type: 'quantLayer', jobId: req.jobId, result }, [result.dense.buffer, result.quantized.buffer]);
}

/** The loaded folder's tokenizer, or why there is none. */
function folderTokenizer(): HfTokenizer {
  if (!current) throw new Error('No model is loaded');
  if (!current.tokenizer) throw new Error('The loaded model came without a tokenizer.json: drop its folder with the tokenizer to use text');
  return current.tokenizer;
}

function handleText(req: Extract<WorkerRequest, { type: 'splitText' | 'splitMaskedText' | 'encodeText' | 'decodeIds' }>): void {
  const tokenizer = folderTokenizer();
  if (req.type === 'splitMaskedText') post({ type: 'maskedTextSplit', jobId: req.jobId, result: splitMaskedText(req.text, tokenizer, maskingTokens(tokenizer, 'tokenizer_config.json'), req.options) });
  else if (req.type === 'splitText') post({ type: 'textSplit', jobId: req.jobId, result: splitText(req.text, tokenizer, req.options) });
  else if (req.type === 'encodeText') post({ type: 'encoded', jobId: req.jobId, result: tokenizer.encode(req.text) });
  else post({ type: 'decoded', jobId: req.jobId, result: tokenizer.decode(req.ids) });
}

// Jobs run one at a time; a cancel message arrives between batches because the handlers await.
let queue: Promise<void> = Promise.resolve();

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const req = event.data;
  if (req.type === 'cancel') {
    cancelled.add(req.jobId);
    return;
  }
  if (req.type === 'warmUp') {
    // Outside the queue: it overlaps the page's model fetch, and the first session awaits the same module.
    const t0 = performance.now();
    warmUp('wasm', { backend: 'wasm', numThreads: req.numThreads, wasmPaths: req.wasmPaths }).then(
      () => post({ type: 'warm', jobId: req.jobId, result: { ms: performance.now() - t0 } }),
      (e: Error) => post({ type: 'error', jobId: req.jobId, message: e.message, errorName: e.name }),
    );
    return;
  }
  queue = queue.then(async () => {
    try {
      if (cancelled.has(req.jobId)) throw new Cancelled();
      if (req.type === 'load') await handleLoad(req);
      else if (req.type === 'loadFolder') await handleLoadFolder(req);
      else if (req.type === 'compress') await handleCompress(req);
      else if (req.type === 'mask') handleMask(req);
      else if (req.type === 'quantLayer') handleQuantLayer(req);
      else if (req.type === 'generate') await handleGenerate(req);
      else if (req.type === 'predict') await handlePredict(req);
      else if (req.type === 'attention') await handleAttention(req);
      else if (req.type === 'timeInference') await handleTimeInference(req);
      else if (req.type === 'splitText' || req.type === 'splitMaskedText' || req.type === 'encodeText' || req.type === 'decodeIds') handleText(req);
      else await handleEvaluate(req);
    } catch (e) {
      if (e instanceof Cancelled) post({ type: 'cancelled', jobId: req.jobId });
      else post({ type: 'error', jobId: req.jobId, message: (e as Error).message ?? String(e), errorName: (e as Error).name ?? 'Error' });
    } finally {
      cancelled.delete(req.jobId);
    }
  });
};
