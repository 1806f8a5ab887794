// CPU reference for the GPTQ sweep kernels: the shipped CPU GPTQ itself, quant/gptq.ts
// gptqQuantize (IST-DASLab/gptq fasterquant step by step; its column loop is SparseGPT's sweep
// with q = Q(w), prune/sparsegpt.sweep.ts on the wasm kernels), which is checked against PyTorch
// (fixtures/gptq.json) in quant/gptq.test.ts. Per column i of a block, in float32:
//   q = scale · (clamp(round(w / scale) + zero, 0, maxq) − zero);  err = (w − q) / U_ii
//   W[:, i+1:blockEnd] −= err ⊗ U[i, i+1:blockEnd]
// then W[:, blockEnd:] −= Err · U[block, blockEnd:] (in-order float32 sums). The kernels make the
// same float32 operations in the same order, so where WGSL's f32 arithmetic is IEEE
// round-to-nearest without contraction the result is bit-identical (llvmpipe: every case).
export { gptqQuantize as gptqQuantizeRef } from '../../../quant/gptq';
