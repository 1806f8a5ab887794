// Which transformers.js dtype a compressed model is, so exportFolder names its graph the way
// transformers.js looks for it (DEFAULT_DTYPE_SUFFIX_MAPPING in its src/utils/dtypes.js). Only
// weights the runtime itself sees as low-bit count: packed MatMulNBits layers. Simulated
// quantization writes float weights on a grid, which the runtime runs as fp32, and pruned weights
// stored densely are fp32 too.
import type { CompressReport } from '../compress/index.ts';
import type { TransformersDtype } from './exportFolder.ts';

export function exportDtype(report: Pick<CompressReport, 'quantized'>): TransformersDtype {
  const packed = report.quantized.filter((l) => l.export === 'packed');
  if (packed.length === 0) return 'fp32';
  // transformers.js's q4 files hold 4-bit MatMulNBits weights; 8-bit packed weights go under its
  // q8 name (model_quantized.onnx), which any graph ORT runs may carry.
  return packed.every((l) => /^4-bit/.test(l.format)) ? 'q4' : 'q8';
}
