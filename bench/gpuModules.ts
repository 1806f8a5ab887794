// Everything the benchmark takes from the GPU side of src/, behind one module: the kernels import
// their WGSL with `?raw`, which only Vite resolves, so bench/gpu.ts loads this file through
// Vite's runnerImport (one module graph for all of it) while the rest of the benchmark runs
// under tsx.
export { acquireNodeGpu, GPU_BACKEND_ENV } from '../src/core/gpu/testing/nodeDevice.ts';
export { GpuContext } from '../src/core/gpu/context.ts';
export { gpuPruneLayer, runPruneJobGpu } from '../src/core/compress/gpuJobs.ts';
export { benchGpuKernels, type KernelBenchRow } from '../src/core/gpu/bench.ts';
export { measureSparseSpeed } from '../src/core/gpu/sparseSpeed.ts';
