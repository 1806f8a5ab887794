// Attention sites on hand-built graphs: heads from Reshape constants or value_info, Q/K/V/out
// tracing, causal masks, and the messages for fused or missing attention.
import { describe, expect, it } from 'vitest';
import { DataType } from '../onnx/types.ts';
import { analyzeModel } from './analyze.ts';
import { attentionBlock, floatInit, int64Init, model, node, tensorValue } from './testGraphs.ts';

describe('unfused attention block', () => {
  it('finds the Softmax, 4 heads of 8 and the four projections by structure alone', () => {
    const analysis = analyzeModel(attentionBlock());
    expect(analysis.attention).toHaveLength(1);
    expect(analysis.attention[0]).toMatchObject({
      softmaxNode: 'softmax', output: 'probs', scoresNode: 'qk', contextNode: 'pv', block: 0,
      heads: 4, kvHeads: 4, headDim: 8, headsSource: 'reshape',
      q: 'Wq', k: 'Wk', v: 'Wv', out: 'Wo', causalMask: false,
    });
    const roles = Object.fromEntries(analysis.linears.map((layer) => [layer.id, [layer.role, layer.roleSource, layer.block]]));
    expect(roles).toEqual({
      Wq: ['attn.q', 'structure', 0],
      Wk: ['attn.k', 'structure', 0],
      Wv: ['attn.v', 'structure', 0],
      Wo: ['attn.out', 'structure', 0],
    });
    expect(analysis).toMatchObject({ numBlocks: 1, blockSource: 'structure' });
    expect(analysis.warnings).toEqual([]);
  });

  it('infers a -1 head count from the projection width', () => {
    const site = analyzeModel(attentionBlock({ headsShape: [0, 0, -1, 8] })).attention[0];
    expect(site).toMatchObject({ heads: 4, headDim: 8, headsSource: 'reshape' });
  });

  it('falls back to the value_info shape of the probabilities', () => {
    const site = analyzeModel(attentionBlock({ headsShape: [0, 0, 32], probsInfo: true })).attention[0];
    expect(site).toMatchObject({ heads: 4, headDim: null, headsSource: 'value_info' });
  });

  it('says so when the number of heads cannot be found', () => {
    const analysis = analyzeModel(attentionBlock({ headsShape: [0, 0, 32] }));
    expect(analysis.attention[0]).toMatchObject({ heads: null, headsSource: 'unknown' });
    expect(analysis.warnings).toContain(
      "Attention 'softmax': number of heads unknown (no Reshape to [.., .., heads, headDim] with constant sizes on the Q path, no value_info shape for the probabilities)",
    );
  });

  it('marks a mask that no input changes (Where with a constant condition) as causal', () => {
    const built = attentionBlock();
    const nodes = built.graph!.node!;
    const softmax = nodes.findIndex((n) => n.opType === 'Softmax');
    nodes.splice(softmax, 0, node('Where', ['causal', 'scaled', 'minus_inf'], ['masked']));
    nodes[softmax + 1].input = ['masked'];
    built.graph!.initializer!.push({ name: 'causal', dims: [1, 1, 8, 8], dataType: DataType.BOOL }, floatInit('minus_inf', []));
    expect(analyzeModel(built).attention[0].causalMask).toBe(true);
  });

  /**
   * The additive mask of a KV-cache export (HF's _prepare_4d_causal_attention_mask, as gen:hf
   * writes it): key position > query position (offset by the past length) OR attention_mask == 0,
   * → finfo.min. It depends on an input, and is causal only through the position comparison.
   */
  function withInputMask(causal: boolean) {
    const built = attentionBlock();
    const nodes = built.graph!.node!;
    const softmax = nodes.findIndex((n) => n.opType === 'Softmax');
    const padding = [node('Equal', ['attention_mask', 'zero'], ['pad']), node('Unsqueeze', ['pad', 'axes_1_2'], ['pad4'])];
    const triangle = [
      node('Shape', ['attention_mask'], ['mask_shape']),
      node('Gather', ['mask_shape', 'one'], ['total'], { attrs: { axis: 0 } }),
      node('Range', ['zero', 'total', 'one'], ['key_pos']),
      node('Unsqueeze', ['key_pos', 'axis_0'], ['key_row']),
      node('Unsqueeze', ['key_pos', 'axis_1'], ['query_col']),
      node('Greater', ['key_row', 'query_col'], ['future']),
      node('Or', ['future', 'pad4'], ['blocked']),
    ];
    const mask = [...padding, ...(causal ? triangle : []), node('Where', [causal ? 'blocked' : 'pad4', 'min', 'zero_f'], ['mask'])];
    nodes.splice(softmax, 0, ...mask, node('Add', ['scaled', 'mask'], ['masked']));
    nodes[softmax + mask.length + 1].input = ['masked'];
    built.graph!.initializer!.push(
      { name: 'zero', dims: [], dataType: DataType.INT64, int64Data: BigInt64Array.of(0n) },
      { name: 'one', dims: [], dataType: DataType.INT64, int64Data: BigInt64Array.of(1n) },
      int64Init('axes_1_2', [1, 2]), int64Init('axis_0', [0]), int64Init('axis_1', [1]),
      floatInit('min', []), floatInit('zero_f', []),
    );
    built.graph!.input!.push(tensorValue('attention_mask', DataType.INT64, ['batch', 'seq']));
    return analyzeModel(built).attention[0];
  }

  it('marks a mask built from attention_mask and a key > query position comparison as causal', () => {
    expect(withInputMask(true).causalMask).toBe(true);
  });

  it('leaves a padding-only mask from attention_mask (an encoder\'s) non-causal', () => {
    expect(withInputMask(false).causalMask).toBe(false);
  });
});

describe('what is not attention', () => {
  it('a classifier Softmax on the graph output is neither attention nor a warning', () => {
    const analysis = analyzeModel(
      model({
        nodes: [node('Gemm', ['x', 'W'], ['logits'], { attrs: { transB: 1 } }), node('Softmax', ['logits'], ['y'], { name: 'probs' })],
        initializers: [floatInit('W', [10, 16])],
        inputs: [tensorValue('x', DataType.FLOAT, ['batch', 16])],
        outputs: [tensorValue('y', DataType.FLOAT, ['batch', 10])],
      }),
    );
    expect(analysis.attention).toEqual([]);
    expect(analysis.linears[0]).toMatchObject({ role: 'head', roleSource: 'structure' });
    expect(analysis.warnings).toEqual([
      "Found 0 Softmax nodes feeding a MatMul (1 Softmax node(s) present but not between Q·Kᵀ and a MatMul with V: 'probs'): the model may have no attention — the lab needs unfused attention for attention views and ACT",
    ]);
  });

  it.each(['GroupQueryAttention', 'MultiHeadAttention'])('a fused %s takes Q, K and V as activations: its projections are linear layers, and the message says so', (opType) => {
    const analysis = analyzeModel(
      model({
        nodes: [
          node('MatMul', ['x', 'wq'], ['q'], { name: '/layers.0/self_attn/q_proj/MatMul' }),
          node('MatMul', ['x', 'wk'], ['k'], { name: '/layers.0/self_attn/k_proj/MatMul' }),
          node('MatMul', ['x', 'wv'], ['v'], { name: '/layers.0/self_attn/v_proj/MatMul' }),
          node(opType, ['q', 'k', 'v'], ['ctx'], { name: 'attn', domain: 'com.microsoft', attrs: { num_heads: 4 } }),
          node('MatMul', ['ctx', 'wo'], ['y'], { name: '/layers.0/self_attn/o_proj/MatMul' }),
        ],
        initializers: ['wq', 'wk', 'wv', 'wo'].map((name) => floatInit(name, [32, 32])),
      }),
    );
    expect(analysis.linears).toHaveLength(4);
    expect(analysis.unsupported).toContain(
      `com.microsoft ${opType} node 'attn': fused attention — its Q/K/V and output projections are MatMuls and can be compressed; its probabilities are no tensor, so cannot be seen or calibrated`,
    );
    expect(analysis.unsupported.join(' ')).not.toContain('kernel input');
  });

  it('a fused com.microsoft Attention node is unsupported, and the missing Softmax says why', () => {
    const analysis = analyzeModel(
      model({
        nodes: [node('Attention', ['x', 'qkv_weight', 'qkv_bias'], ['y'], { name: 'attn', domain: 'com.microsoft', attrs: { num_heads: 4 } })],
        initializers: [floatInit('qkv_weight', [32, 96]), floatInit('qkv_bias', [96])],
      }),
    );
    expect(analysis.attention).toEqual([]);
    expect(analysis.linears).toEqual([]);
    expect(analysis.unsupported).toContain(
      "com.microsoft Attention node 'attn': fused attention — its packed Q/K/V weight is a kernel input, not a linear layer (the output projection is one); its probabilities are no tensor, so cannot be seen or calibrated",
    );
    expect(analysis.warnings).toContain(
      "Found 0 Softmax nodes feeding a MatMul: attention may be fused (com.microsoft Attention node 'attn' found) — the lab needs unfused attention for attention views and ACT",
    );
  });

  /** A token LM whose only attention is one fused node: the task is read from that node. */
  function fusedLm(opType: string, attrs: Record<string, number>) {
    return analyzeModel(
      model({
        nodes: [
          node('Gather', ['emb', 'input_ids'], ['x']),
          node(opType, ['x', 'x', 'x'], ['h'], { name: 'attn', domain: 'com.microsoft', attrs: { num_heads: 4, ...attrs } }),
          node('MatMul', ['h', 'head'], ['logits']),
        ],
        initializers: [floatInit('emb', [50, 32]), floatInit('head', [32, 50])],
        inputs: [tensorValue('input_ids', DataType.INT64, ['batch', 'seq'])],
        outputs: [tensorValue('logits', DataType.FLOAT, ['batch', 'seq', 50])],
      }),
    );
  }

  it('tells a causal from a masked LM by its fused attention when there is no unfused site', () => {
    expect(fusedLm('GroupQueryAttention', { kv_num_heads: 2 })).toMatchObject({ task: 'causal-lm' });
    expect(fusedLm('MultiHeadAttention', { unidirectional: 1 }).taskReason).toMatch(/fused attention that masks causally$/);
    expect(fusedLm('MultiHeadAttention', {})).toMatchObject({ task: 'masked-lm' });
    expect(fusedLm('MultiHeadAttention', {}).taskReason).toMatch(/fused attention with no causal mask$/);
  });

  it('reads MatMulNBits with a stored B as a linear layer, reports one with a computed B and external data as unsupported', () => {
    const analysis = analyzeModel(
      model({
        nodes: [
          node('MatMulNBits', ['x', 'packed', 'scales'], ['h'], { name: 'q4', domain: 'com.microsoft', attrs: { K: 32, N: 32, bits: 4, block_size: 32 } }),
          node('MatMulNBits', ['h', 'packed_in', 'scales'], ['y'], { name: 'dynamic', domain: 'com.microsoft', attrs: { K: 32, N: 32, bits: 4, block_size: 32 } }),
        ],
        initializers: [
          { name: 'packed', dims: [32, 1, 16], dataType: DataType.UINT8, dataLocation: 1, externalData: [{ key: 'location', value: 'model.onnx.data' }] },
          floatInit('scales', [32]),
        ],
        inputs: [tensorValue('x', DataType.FLOAT, ['batch', 'seq', 32]), tensorValue('packed_in', DataType.UINT8, [32, 1, 16])],
      }),
    );
    expect(analysis.linears.map((l) => [l.nodeName, l.opType, l.outFeatures, l.inFeatures])).toEqual([['q4', 'MatMulNBits', 32, 32]]);
    expect(analysis.unsupported).toEqual([
      "1 MatMulNBits node(s) ('dynamic'): quantized/packed weights, not analysed as linear layers",
      "Weights are external data: 1 initializer(s) ('packed') keep their values outside the .onnx file",
    ]);
    expect(analysis.warnings).toContain("MatMulNBits 'dynamic' has no stored B, no activation A or no K, N, block_size: not analysed as a linear layer");
  });
});

describe('model facts', () => {
  it('counts float parameters and bytes per element type', () => {
    const analysis = analyzeModel(
      model({
        nodes: [node('MatMul', ['x', 'W'], ['y'])],
        initializers: [floatInit('W', [32, 32]), { name: 'h', dims: [10], dataType: DataType.FLOAT16 }, int64Init('shape', [1, 2, 3])],
      }),
    );
    expect(analysis.totalParams).toBe(32 * 32 + 10);
    expect(analysis.initializerBytes).toEqual({ float32: 4096, float16: 20, int64: 24 });
    expect(analysis.opsetImports).toEqual([{ domain: 'ai.onnx', version: 17 }]);
    expect(analysis.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['batch', 'seq', 32] }]);
  });
});
