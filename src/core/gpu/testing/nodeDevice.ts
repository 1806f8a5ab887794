// The one place the tests get a WebGPU device in Node: Dawn through the `webgpu` npm package,
// on a software adapter (this machine has no GPU). Two backends work here:
//   opengles — Mesa llvmpipe through EGL (surfaceless), WebGPU compatibility mode. The default:
//              it needs nothing set before the process starts and runs our kernels ~5× faster
//              than SwiftShader on this machine.
//   vulkan   — SwiftShader (Chrome's software Vulkan, from Debian's chromium package), full
//              core WebGPU. The Vulkan loader libvulkan.so.1 is not installed system-wide, only
//              inside /usr/lib/chromium, so it is loaded from there before Dawn looks for it.
// LAB_VULKAN_LOADER=/path/libvulkan.so.1 loads that Vulkan loader instead and leaves the ICD to
// the machine (VK_ICD_FILENAMES or the loader's search paths): how `npm run bench:pack`'s folder
// reaches a real GPU's driver, e.g. NVIDIA's, on a machine without chromium.
// LAB_GPU_BACKEND=opengles|vulkan picks one and tries nothing else. Unset, opengles is tried,
// then vulkan, and the suite prints which adapter ran and why any earlier one was not used.
// No adapter at all fails every GPU test with the reasons, unless LAB_SKIP_GPU_TESTS=1 (see
// describeGpu.ts). This file imports no vitest, so benchmarks can use it too.
import { create } from 'webgpu';

export type NodeGpuBackend = 'opengles' | 'vulkan';

export interface NodeGpu {
  device: GPUDevice;
  backend: NodeGpuBackend;
  /** Adapter description, e.g. "OpenGL ES 3.2 Mesa 22.3.6 (llvmpipe-…) via Dawn opengles, compatibility". */
  description: string;
  /** Why backends tried before this one were not used. */
  notes: string[];
}

export const SKIP_GPU_TESTS_ENV = 'LAB_SKIP_GPU_TESTS';
export const GPU_BACKEND_ENV = 'LAB_GPU_BACKEND';
export const VULKAN_LOADER_ENV = 'LAB_VULKAN_LOADER';

const CHROMIUM_DIR = '/usr/lib/chromium';
const SWIFTSHADER_ICD = `${CHROMIUM_DIR}/vk_swiftshader_icd.json`;
// dlopen flags (glibc): RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE.
const RTLD_NOW_GLOBAL_NODELETE = 0x2 | 0x100 | 0x1000;

/** Keeps each `create()` result alive: Dawn tears the instance down when it is collected. */
const liveInstances: GPU[] = [];

function loadVulkanLoader(path: string): void {
  // Dawn dlopens "libvulkan.so.1" by name. LD_LIBRARY_PATH is read only at process start, so
  // instead load chromium's copy now: once a library with that soname is resident, dlopen by
  // name returns it. process.dlopen then complains that it is not a Node addon, which is
  // expected; RTLD_NODELETE keeps the library loaded through the failed addon registration.
  try {
    process.dlopen({ exports: {} }, path, RTLD_NOW_GLOBAL_NODELETE);
  } catch (error) {
    if (!/did not self-register|Module did not/.test(String(error))) throw error;
  }
}

async function requestAdapter(backend: NodeGpuBackend): Promise<{ adapter: GPUAdapter; mode: string }> {
  if (backend === 'opengles') {
    process.env.EGL_PLATFORM ??= 'surfaceless';
    const gpu = create(['backend=opengles']);
    liveInstances.push(gpu);
    const adapter = await gpu.requestAdapter({ featureLevel: 'compatibility' });
    if (!adapter) throw new Error('Dawn backend=opengles found no adapter (needs Mesa EGL with llvmpipe; EGL_PLATFORM=surfaceless)');
    return { adapter, mode: 'compatibility' };
  }
  const loader = process.env[VULKAN_LOADER_ENV];
  if (loader === undefined) process.env.VK_ICD_FILENAMES ??= SWIFTSHADER_ICD;
  loadVulkanLoader(loader ?? `${CHROMIUM_DIR}/libvulkan.so.1`);
  const gpu = create(['backend=vulkan']);
  liveInstances.push(gpu);
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error(`Dawn backend=vulkan found no adapter (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset: the loader searches /usr/share/vulkan/icd.d'}; ${loader ? `loader ${loader}` : "needs Debian's chromium package"})`);
  return { adapter, mode: 'core' };
}

/** Limits the kernels are written for (core WebGPU defaults), and the adapter's largest buffers. */
function requiredLimits(adapter: GPUAdapter): Record<string, number> {
  const want: Record<string, number> = {
    maxComputeInvocationsPerWorkgroup: 256,
    maxComputeWorkgroupSizeX: 256,
    maxComputeWorkgroupSizeY: 256,
    maxComputeWorkgroupStorageSize: 16384,
    maxStorageBuffersPerShaderStage: 8,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxBufferSize: adapter.limits.maxBufferSize,
  };
  const limits: Record<string, number> = {};
  for (const [name, value] of Object.entries(want)) {
    limits[name] = Math.min(value, (adapter.limits as unknown as Record<string, number>)[name]);
  }
  return limits;
}

export async function acquireNodeGpu(): Promise<NodeGpu> {
  const chosen = process.env[GPU_BACKEND_ENV];
  if (chosen !== undefined && chosen !== 'opengles' && chosen !== 'vulkan') {
    throw new Error(`${GPU_BACKEND_ENV}=${chosen}: expected 'opengles' or 'vulkan'`);
  }
  const order: NodeGpuBackend[] = chosen ? [chosen] : ['opengles', 'vulkan'];
  const notes: string[] = [];
  for (const backend of order) {
    try {
      const { adapter, mode } = await requestAdapter(backend);
      const device = await adapter.requestDevice({ label: `lab-tests-${backend}`, requiredLimits: requiredLimits(adapter) });
      const info = adapter.info;
      const name = [info.description, info.device].filter((s) => s).join(' / ');
      return { device, backend, description: `${name} via Dawn ${backend}, ${mode}`, notes };
    } catch (error) {
      notes.push(`${backend}: ${(error as Error).message}`);
    }
  }
  throw new Error(
    `No WebGPU adapter for the GPU kernel tests.\n  ${notes.join('\n  ')}\n` +
      `Set ${SKIP_GPU_TESTS_ENV}=1 to skip these tests (and say so), or ${GPU_BACKEND_ENV}=opengles|vulkan to choose a backend.`,
  );
}
