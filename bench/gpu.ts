// The WebGPU device for the benchmark: Dawn through the `webgpu` npm package, as the GPU kernel
// tests get it (src/core/gpu/testing/nodeDevice.ts; LAB_GPU_BACKEND=opengles|vulkan picks the
// backend). No adapter is not an error here: the sections print the reason where the GPU
// numbers would be.
import { fileURLToPath } from 'node:url';
import { runnerImport } from 'vite';
import { reason } from './measure.ts';

export type GpuModules = typeof import('./gpuModules.ts');

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

export async function acquireBenchGpu(): Promise<GpuOutcome> {
  let modules: GpuModules;
  try {
    const entry = fileURLToPath(new URL('./gpuModules.ts', import.meta.url));
    // No vite.config.ts: `?raw` is Vite core, and the app's plugins have nothing to do here.
    modules = (await runnerImport<GpuModules>(entry, { configFile: false, logLevel: 'error' })).module;
  } catch (error) {
    return { ok: false, reason: `loading the GPU modules through Vite failed: ${reason(error)}` };
  }
  try {
    const node = await modules.acquireNodeGpu();
    const info = node.device.adapterInfo;
    const field = (value: string | undefined) => (value && value.trim() ? value.trim() : '-');
    const adapterInfo = `vendor ${field(info?.vendor)}, architecture ${field(info?.architecture)}, device ${field(info?.device)}, description ${field(info?.description)}`;
    return { ok: true, gpu: { modules, device: node.device, description: node.description, adapterInfo, notes: node.notes } };
  } catch (error) {
    // acquireNodeGpu lists every backend it tried; keep them on one line for the table.
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: message.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('Set ')).join('; ') };
  }
}
