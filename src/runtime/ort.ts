// The only module that imports onnxruntime-web. Everything else sees ModelRunner / HostTensor.
// In Node this resolves to ORT's Node build (wasm), in the browser to the JSEP build (WebGPU + wasm).
import * as ort from 'onnxruntime-web';
import type { Backend, BackendPreference, BackendReport, HostTensor, ModelRunner } from '../core/eval/runner';

export interface RunnerOptions {
  backend: BackendPreference;
  /** wasm threads; 1 unless the page is cross-origin isolated. */
  numThreads?: number;
  /** Prefix URL of ORT's .mjs/.wasm files (browser builds serve them under /ort/). */
  wasmPaths?: string;
}

export interface CreatedRunner {
  runner: ModelRunner;
  report: BackendReport;
}

function configure(options: RunnerOptions): void {
  if (options.wasmPaths) ort.env.wasm.wasmPaths = options.wasmPaths;
  if (options.numThreads) ort.env.wasm.numThreads = options.numThreads;
  ort.env.logLevel = 'error';
}

/** Why WebGPU cannot be used here, or undefined when an adapter is available. */
export async function webgpuUnavailableReason(): Promise<string | undefined> {
  const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (!gpu) return 'this runtime exposes no navigator.gpu (WebGPU not supported or not enabled)';
  try {
    const adapter = await gpu.requestAdapter();
    return adapter ? undefined : 'navigator.gpu.requestAdapter() returned no adapter';
  } catch (e) {
    return `requesting a WebGPU adapter failed: ${(e as Error).message}`;
  }
}

// One provider per session, never a list: ORT silently drops to the next listed provider when one
// fails, and then we could not say which one ran.
async function createSession(bytes: Uint8Array, backend: Backend): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { executionProviders: [backend], graphOptimizationLevel: 'all' });
}

export async function createRunner(bytes: Uint8Array, options: RunnerOptions): Promise<CreatedRunner> {
  configure(options);
  if (options.backend === 'wasm') return { runner: wrap(await createSession(bytes, 'wasm'), 'wasm'), report: { requested: 'wasm', used: 'wasm' } };
  const unavailable = await webgpuUnavailableReason();
  if (!unavailable) {
    try {
      return { runner: wrap(await createSession(bytes, 'webgpu'), 'webgpu'), report: { requested: options.backend, used: 'webgpu' } };
    } catch (e) {
      if (options.backend === 'webgpu') throw new Error(`WebGPU was requested but ONNX Runtime could not use it: ${(e as Error).message}`);
      const session = await createSession(bytes, 'wasm');
      return { runner: wrap(session, 'wasm'), report: { requested: 'auto', used: 'wasm', fallbackReason: `WebGPU session failed: ${(e as Error).message}` } };
    }
  }
  if (options.backend === 'webgpu') throw new Error(`WebGPU was requested but ${unavailable}`);
  return { runner: wrap(await createSession(bytes, 'wasm'), 'wasm'), report: { requested: 'auto', used: 'wasm', fallbackReason: unavailable } };
}

function toOrt(t: HostTensor): ort.Tensor {
  return new ort.Tensor(t.dtype, t.data, t.dims);
}

function fromOrt(t: ort.Tensor): HostTensor {
  const dtype = t.type as HostTensor['dtype'];
  if (!['float32', 'int64', 'int32', 'uint8', 'bool'].includes(dtype)) throw new Error(`Unsupported output type ${t.type}`);
  return { dtype, dims: [...t.dims], data: t.data as HostTensor['data'] };
}

function wrap(session: ort.InferenceSession, backend: Backend): ModelRunner {
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    backend,
    async run(feeds) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrt(t);
      const results = await session.run(ortFeeds);
      const out: Record<string, HostTensor> = {};
      for (const [name, t] of Object.entries(results)) {
        // GPU-resident outputs are downloaded so callers always see host memory.
        if (t.location !== 'cpu') await t.getData(true);
        out[name] = fromOrt(t);
      }
      return out;
    },
    release: () => session.release(),
  };
}
