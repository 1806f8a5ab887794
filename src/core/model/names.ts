// Module paths and block indices read from the names exporters give nodes and weights.
// torch.onnx.export names a node after its module scope ('/model/layers.0/self_attn/q_proj/MatMul')
// and keeps parameter names ('model.layers.0.self_attn.q_proj.weight') unless constant folding
// replaced the tensor ('onnx::MatMul_518').

/** '/transformer/h.0/attn/c_attn/Gemm' → 'transformer.h.0.attn.c_attn'; '' for unscoped names. */
export function modulePathFromNode(nodeName: string): string {
  if (!nodeName.includes('/')) return '';
  const parts = nodeName.split('/').filter((part) => part !== '');
  parts.pop(); // the op's own name, e.g. 'MatMul' or 'Gemm_1'
  return parts.join('.');
}

/** 'model.layers.0.mlp.up_proj.weight' → 'model.layers.0.mlp.up_proj'; '' for generated names. */
export function modulePathFromWeight(weightName: string): string {
  if (weightName.startsWith('onnx::')) return '';
  const match = /^(.+?)[._](weight|kernel|w)$/i.exec(weightName);
  return match ? match[1] : '';
}

// Container names that hold one transformer block per index: layers.N (Llama, BART), layer.N
// (BERT, ViT), h.N (GPT-2), blocks.N / block.N (timm, T5, our own models). Separators '.', '/'
// and '_' cover module paths, node scopes and flattened names.
const BLOCK_PATTERN = /(?:^|[./])(?:layers|layer|h|blocks|block)[._/](\d+)(?=$|[./_])/;

/** The block index a name carries, e.g. 3 for 'encoder.layer.3.output.dense', else null. */
export function blockFromName(name: string): number | null {
  const match = BLOCK_PATTERN.exec(name);
  return match ? Number(match[1]) : null;
}
