// Section "latency": the latency table (src/core/latency) for the bundled LM's block shapes and a
// GPT-2-small block's (d 768, 12 heads × 64, MLP 3072; a 128-token window), each part against the
// whole dense block measured in the same table; then, for the bundled LM, the table's prediction
// against the measured latency of models sliced to a few kept settings (the structured stage's
// sliceStructures keeping the first h heads and n neurons of every block), each measured in
// interleaved rounds with the dense model. ORT wasm, one thread.
import { bundledModel, openRunner } from '../src/core/calibrate/fixtures/models.ts';
import { denseKept, latencySpec, measureLatencyTable, measureModelLatencies, predictModelMs, type LatencySpec, type LatencyTable } from '../src/core/latency/index.ts';
import { structuredBlocks } from '../src/core/structured/blocks.ts';
import { sliceStructures } from '../src/core/structured/slice.ts';
import { writeModel } from '../src/core/onnx/index.ts';
import { formatMs, ratio, type Table } from './measure.ts';

/** GPT-2 small (Radford et al. 2019; HF gpt2): 12 blocks, d 768, 12 heads of 64, MLP 3072, vocabulary 50257; a 128-token window. */
export const GPT2_SMALL_SPEC: LatencySpec = {
  dModel: 768, heads: 12, headDim: 64, kvHeads: 12, mlpWidth: 3072, gated: false, blocks: 12, seq: 128, causal: true,
  input: 'tokens', inputWidth: 50257, headOut: 50257, headTokens: 128,
};

const KEPT: [heads: number, neurons: number][] = [[4, 512], [3, 384], [2, 256], [1, 128]];

function tableRows(name: string, table: LatencyTable): string[][] {
  const { spec } = table;
  const block = table.attentionMs[spec.heads] + table.mlp.ms.at(-1)!;
  const rows: string[][] = [[name, 'dense block (baseline)', formatMs(block), ratio(block, block)]];
  for (let h = spec.heads; h >= 1; h -= Math.max(1, spec.heads / 4)) rows.push([name, `attention, ${h} of ${spec.heads} heads`, formatMs(table.attentionMs[h]), ratio(table.attentionMs[h], block)]);
  table.mlp.neurons.slice(1).reverse().forEach((n, i, all) => {
    if (i % 2 === 0 || i === all.length - 1) rows.push([name, `MLP, ${n} of ${spec.mlpWidth} neurons`, formatMs(table.mlp.ms[table.mlp.neurons.indexOf(n)]), ratio(table.mlp.ms[table.mlp.neurons.indexOf(n)], block)]);
  });
  rows.push([name, `rest (embeddings, ${2 * spec.blocks + 1} norms, head on ${spec.headTokens} tokens)`, formatMs(table.restMs), ratio(table.restMs, block)]);
  rows.push([name, `per-run overhead (Identity)`, formatMs(table.overheadMs), ratio(table.overheadMs, block)]);
  rows.push([name, `whole model predicted (${spec.blocks} blocks)`, formatMs(predictModelMs(table, denseKept(spec))), ratio(predictModelMs(table, denseKept(spec)), block)]);
  return rows;
}

export async function latencySection(options: { repeats?: number } = {}): Promise<Table[]> {
  const repeats = options.repeats ?? 10;
  const lm = bundledModel('kjv-charlm');
  const lmSpec = latencySpec(lm.analysis);
  const lmTable = await measureLatencyTable(lmSpec, openRunner, { repeats, warmup: 2, statistic: 'min' });
  const gpt2Table = await measureLatencyTable(GPT2_SMALL_SPEC, openRunner, { repeats: Math.max(3, Math.round(repeats / 3)), warmup: 1, statistic: 'min', mlpSamples: 4 });
  const parts: Table = {
    title: 'latency: the latency table (ms per forward pass of one part; ratio against the dense block in the same table)',
    notes: [
      `onnxruntime-web wasm, one thread; each part is the fastest of ${repeats} (LM) / ${Math.max(3, Math.round(repeats / 3))} (GPT-2 small) interleaved runs (statistic 'min': the machine is shared), per-run overhead taken off`,
      'a 128-token window, batch 1; GPT-2 small: the shapes only (seeded constant weights), its LM head over 50257 tokens dominates the rest',
    ],
    columns: [{ header: 'shapes', align: 'left' }, { header: 'part', align: 'left' }, { header: 'ms' }, { header: 'vs dense block' }],
    rows: [...tableRows('kjv-charlm', lmTable), ...tableRows('GPT-2 small', gpt2Table)],
  };

  const blocks = structuredBlocks(lm.analysis, { heads: true, neurons: true });
  if (typeof blocks === 'string') throw new Error(blocks);
  const rows: string[][] = [];
  for (const [heads, neurons] of KEPT) {
    const keep = {
      groups: new Map(blocks.map((b) => [b.block, Array.from({ length: heads }, (_, i) => i)])),
      neurons: new Map(blocks.map((b) => [b.block, Array.from({ length: neurons }, (_, i) => i)])),
    };
    const sliced = heads === lmSpec.heads && neurons === lmSpec.mlpWidth ? lm.bytes : writeModel(sliceStructures(lm.model, blocks, keep).model);
    const [dense, measured] = await measureModelLatencies([lm.bytes, sliced], openRunner, { seq: lmSpec.seq, repeats: 4 * repeats, warmup: 2 });
    const predicted = predictModelMs(lmTable, Array.from({ length: lmSpec.blocks }, () => ({ heads, neurons })));
    const denseMs = predictModelMs(lmTable, denseKept(lmSpec));
    rows.push([`${heads} of 4 heads, ${neurons} of 512 neurons`, `${(sliced.byteLength / 1024).toFixed(0)} KiB`, formatMs(predicted), `${(denseMs / predicted).toFixed(2)}×`, formatMs(measured.minMs), formatMs(measured.medianMs), `${(dense.minMs / measured.minMs).toFixed(2)}×`, ratio(measured.minMs, predicted)]);
  }
  const predictedVsMeasured: Table = {
    title: 'latency: predicted (table) against measured (whole sliced model), kjv-charlm, every block kept alike',
    notes: [
      `measured: the sliced model and the dense one in ${4 * repeats} interleaved rounds; min and median per forward pass of 128 tokens; speedups from the mins`,
      'the last column is measured / predicted: how far the sum of parts is from the whole',
    ],
    columns: [{ header: 'kept per block', align: 'left' }, { header: 'file' }, { header: 'predicted ms' }, { header: 'predicted speedup' }, { header: 'measured min ms' }, { header: 'measured median ms' }, { header: 'measured speedup' }, { header: 'measured / predicted' }],
    rows,
  };
  return [parts, predictedVsMeasured];
}
