// Public surface of the lab's WebGPU compute kernels (see docs/gpu-kernels.md). Everything takes
// a GpuContext built on a GPUDevice the caller obtained; nothing here looks for a device.
export { GpuContext, GpuError, STORAGE_USAGE, type BufferRange, type DispatchSpec, type GpuContextOptions, type GpuErrorKind, type GpuLimits } from './context';
export { BufferUsage, MapMode, ShaderStage } from './flags';
export { ceilDiv, defineProgram, foldWorkgroups, rowRangesWithinBinding, type GpuProgram, type ProgramSpec, type StorageBinding, type UniformField } from './program';
export { prunedPerRow, type PrunePattern } from './kernels/pruneOrder';
export { HessianAccumulatorGpu, hessianStatsGpu, type HessianStats } from './kernels/hessian/hessian.gpu';
export { encodeWandaScore, wandaScoreGpu } from './kernels/wandaScore/wandaScore.gpu';
export { encodeRowSelect, rowSelectGpu } from './kernels/rowSelect/rowSelect.gpu';
export { GlobalSelectGpu, globalSelectGpu, thresholdSelectGpu, GLOBAL_SELECT_CHUNK, type GlobalSelection, type MaskPlacement } from './kernels/globalSelect/globalSelect.gpu';
export { encodeNmSelect, nmSelectGpu, NM_MAX_GROUP } from './kernels/nmSelect/nmSelect.gpu';
export { SparseGptGpu, sparsegptPruneGpu, SPARSEGPT_MAX_BLOCK, type DeviceBlockMask, type HostMaskStep, type MaskStep, type SparseGptInputs, type SparseGptResult } from './kernels/sparsegptUpdate/sparsegptUpdate.gpu';
export { encodeReadColumns, encodeWriteColumns, type ColumnRange } from './kernels/columnRange/columnRange.gpu';
export { benchGpuKernels, type KernelBenchOptions, type KernelBenchRow } from './bench';
export { encodeMatmul, matmulGpu, uploadMatmulWeight, releaseMatmulWeight, MATMUL_TILE, type ResidentWeight } from './kernels/sparseMatmul/sparseMatmul.gpu';
export { packSparse24, unpackSparse24, packBlockSparse, unpackBlockSparse, storedBytes, type BlockShape, type BlockSparseWeight, type DenseWeight, type Sparse24Weight } from './kernels/sparseMatmul/sparseFormats';
export { measureSparseSpeed, BUNDLED_LM_SHAPES, GPT2_SMALL_SHAPES, SPARSE_LAYOUTS, type LayerShape, type LayoutTiming, type ShapeTiming, type SparseLayout, type SparseSpeedOptions } from './sparseSpeed';
