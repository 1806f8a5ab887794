// The WebGPU device for the benchmark: Dawn through the `webgpu` npm package, as the GPU kernel
// tests get it (src/core/gpu/testing/nodeDevice.ts; LAB_GPU_BACKEND=opengles|vulkan picks the
// backend). No adapter is not an error here: the sections print the reason where the GPU
// numbers would be.
import { fileURLToPath } from 'node:url';
import { reason } from './measure.ts';

export type GpuModules = typeof import('./gpuModules.ts');

/** Defined (true) by `npm run bench:pack`'s esbuild, which inlines the WGSL itself. */
declare const __LAB_BENCH_BUNDLE__: boolean | undefined;

export interface BenchGpu {
  modules: GpuModules;
  device: GPUDevice;
  /** e.g. "llvmpipe (LLVM 15.0.6, 256 bits) via Dawn opengles, compatibility". */
  description: string;
  /** adapter.info's vendor / architecture / device / description, empty fields shown as "-". */
  adapterInfo: string;
  /** Why backends tried before the one in use were not used. */
  notes: string[];
}

export type GpuOutcome = { ok: true; gpu: BenchGpu } | { ok: false; reason: string };

/** What a table row says in place of GPU numbers; the full reason is in the report's header. */
export const NO_GPU_CELL = 'no WebGPU adapter (reason in the header)';

export async function acquireBenchGpu(): Promise<GpuOutcome> {
  let modules: GpuModules;
  try {
    if (typeof __LAB_BENCH_BUNDLE__ !== 'undefined') return await adapterOutcome(await import('./gpuModules.ts'));
    // Vite (a large module graph) is loaded only when a GPU section runs, after the io section.
    const { runnerImport } = await import('vite');
    const entry = fileURLToPath(new URL('./gpuModules.ts', import.meta.url));
    // No vite.config.ts: `?raw` is Vite core, and the app's plugins have nothing to do here.
    modules = (await runnerImport<GpuModules>(entry, { configFile: false, logLevel: 'error' })).module;
  } catch (error) {
    return { ok: false, reason: `loading the GPU modules through Vite failed: ${reason(error)}` };
  }
  return adapterOutcome(modules);
}

async function adapterOutcome(modules: GpuModules): Promise<GpuOutcome> {
  try {
    const node = await modules.acquireNodeGpu();
    const info = node.device.adapterInfo;
    const field = (value: string | undefined) => (value && value.trim() ? value.trim() : '-');
    // A software adapter must never pass for a GPU: say so in the same line as its name.
    const software = info?.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe|softpipe|warp/i.test(`${info?.vendor} ${info?.architecture} ${info?.device} ${info?.description} ${node.description}`);
    const adapterInfo = `vendor ${field(info?.vendor)}, architecture ${field(info?.architecture)}, device ${field(info?.device)}, description ${field(info?.description)}${software ? ' — SOFTWARE adapter (CPU), not a GPU' : ''}`;
    return { ok: true, gpu: { modules, device: node.device, description: node.description, adapterInfo, notes: node.notes } };
  } catch (error) {
    // acquireNodeGpu's message is written for the test suite: keep the lines that say why each
    // backend it tried gave no adapter, on one line.
    const lines = (error instanceof Error ? error.message : String(error)).split('\n').map((l) => l.trim());
    const backends = lines.filter((l) => /^(opengles|vulkan):/.test(l));
    return { ok: false, reason: backends.length > 0 ? backends.join('; ') : lines[0] };
  }
}
