// The only module that imports onnxruntime-web. Everything else sees ModelRunner / HostTensor.
// In Node, ORT's Node build (wasm). In the browser, two builds loaded on first use: the plain SIMD
// wasm build for WASM sessions (a 14 MB binary that compiles and runs faster than the 28 MB JSEP
// one: the bundled LM's dense evaluation took 0.9–1.2 s in the page instead of 1.6–2.1 s), and the
// JSEP build only when a WebGPU session is asked for. See docs/backend-choice.md.
import type * as OrtModule from 'onnxruntime-web';
import { writeModel } from '../core/onnx';
import { autoFallbackReason, probeAdapter } from './adapter';

type Ort = typeof OrtModule;

const inNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
let wasmOrt: Promise<Ort> | undefined;
let webgpuOrt: Promise<Ort> | undefined;

/** The ORT build that runs `backend` here (each loaded once). */
function ortFor(backend: Backend): Promise<Ort> {
  if (inNode) return (wasmOrt ??= import('onnxruntime-web'));
  if (backend === 'wasm') return (wasmOrt ??= import('onnxruntime-web/wasm') as Promise<Ort>);
  return (webgpuOrt ??= import('onnxruntime-web'));
}
import type { Backend, BackendPreference, BackendReport, HostTensor, ModelRunner } from '../core/eval/runner';
import type { TensorInfo } from '../core/model/types';

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

async function configured(backend: Backend, options: RunnerOptions): Promise<Ort> {
  const ort = await ortFor(backend);
  if (options.wasmPaths) ort.env.wasm.wasmPaths = options.wasmPaths;
  if (options.numThreads) ort.env.wasm.numThreads = options.numThreads;
  // Warnings (e.g. VerifyEachNodeIsAssignedToAnEp, printed with colour codes on WebGPU) are
  // expected and reported by the lab itself where they matter; errors still reach the console.
  ort.env.logLevel = 'error';
  return ort;
}

/** Starts fetching and compiling the runtime for `backend` before the first session needs it. */
export async function warmUp(backend: Backend, options: RunnerOptions): Promise<void> {
  const ort = await configured(backend, options);
  // Creating no session still initialises the wasm module: ORT exposes no lighter hook.
  const session = await ort.InferenceSession.create(identityModel(), { executionProviders: [backend], logSeverityLevel: 3 });
  await session.release();
}

let identityBytes: Uint8Array | undefined;

/** A one-node model (Identity on a float32 vector): the cheapest session that loads the runtime. */
function identityModel(): Uint8Array {
  const io = (name: string) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }] } } } });
  identityBytes ??= writeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'warm-up', node: [{ opType: 'Identity', input: ['x'], output: ['y'] }], input: [io('x')], output: [io('y')] },
  });
  return identityBytes;
}


// One provider per session, never a list: ORT silently drops to the next listed provider when one
// fails, and then we could not say which one ran.
async function session(bytes: Uint8Array, backend: Backend, options: RunnerOptions): Promise<[Ort, OrtModule.InferenceSession, Backend]> {
  const ort = await configured(backend, options);
  return [ort, await ort.InferenceSession.create(bytes, { executionProviders: [backend], graphOptimizationLevel: 'all', logSeverityLevel: 3 }), backend];
}

export async function createRunner(bytes: Uint8Array, options: RunnerOptions): Promise<CreatedRunner> {
  if (options.backend === 'wasm') return { runner: wrap(...(await session(bytes, 'wasm', options))), report: { requested: 'wasm', used: 'wasm' } };
  const verdict = await probeAdapter();
  // A forced WebGPU run uses a software adapter too (the user asked); auto does not.
  const unavailable = verdict.kind === 'none' ? verdict.reason : options.backend === 'auto' ? autoFallbackReason(verdict) : undefined;
  if (!unavailable) {
    try {
      return { runner: wrap(...(await session(bytes, 'webgpu', options))), report: { requested: options.backend, used: 'webgpu' } };
    } catch (e) {
      if (options.backend === 'webgpu') throw new Error(`WebGPU was requested but ONNX Runtime could not use it: ${(e as Error).message}`);
      return { runner: wrap(...(await session(bytes, 'wasm', options))), report: { requested: 'auto', used: 'wasm', fallbackReason: `WebGPU session failed: ${(e as Error).message}` } };
    }
  }
  if (options.backend === 'webgpu') throw new Error(`WebGPU was requested but ${unavailable}`);
  return { runner: wrap(...(await session(bytes, 'wasm', options))), report: { requested: 'auto', used: 'wasm', fallbackReason: unavailable } };
}

function toOrt(ort: Ort, t: HostTensor): OrtModule.Tensor {
  return new ort.Tensor(t.dtype, t.data, t.dims);
}

function fromOrt(t: OrtModule.Tensor): HostTensor {
  const dtype = t.type as HostTensor['dtype'];
  if (!['float32', 'int64', 'int32', 'uint8', 'bool'].includes(dtype)) throw new Error(`Unsupported output type ${t.type}`);
  return { dtype, dims: [...t.dims], data: t.data as HostTensor['data'] };
}

/** ORT's metadata as the project's TensorInfo (a non-tensor value keeps its name, no type). */
function tensorInfo(meta: OrtModule.InferenceSession.ValueMetadata): TensorInfo {
  if (!meta.isTensor) return { name: meta.name, dtype: 'non-tensor', shape: null };
  return { name: meta.name, dtype: meta.type, shape: meta.shape.length === 0 ? null : [...meta.shape] };
}

function wrap(ort: Ort, session: OrtModule.InferenceSession, backend: Backend): ModelRunner {
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    inputInfo: session.inputMetadata.map(tensorInfo),
    outputInfo: session.outputMetadata.map(tensorInfo),
    backend,
    async run(feeds, fetches) {
      const ortFeeds: Record<string, OrtModule.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrt(ort, t);
      const results = fetches ? await session.run(ortFeeds, [...fetches]) : await session.run(ortFeeds);
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
