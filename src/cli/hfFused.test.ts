// Fused Hugging Face exports (npm run gen:hf --fused: the ORT transformer optimizer's shapes —
// GroupQueryAttention + SkipSimplifiedLayerNormalization for the Llama family, MultiHeadAttention +
// SkipLayerNormalization + FastGelu for GPT-2) compressed through the CLI's own path
// (compressOnDisk → compressModel, block by block), exported as transformers.js reads a
// repository, opened again, evaluated on text in onnxruntime-web, and generated with both the
// lab's KV-cache loop and transformers.js (onnxruntime-node): the same greedy ids.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { writeEncoderFolder } from '../../scripts/gen/hf/encoderFolder';
import { writeHfFolder } from '../../scripts/gen/hf/folder';
import { transformersJsGenerate, transformersJsMaskedLm } from '../../scripts/gen/hf/transformersJs';
import { fusedAttentionNotice } from '../core/attention';
import { openRunner, randomTokens } from '../core/calibrate/fixtures/models';
import { evaluate } from '../core/eval/evaluate';
import { generate } from '../core/eval/generate';
import { exportFolderFiles, exportGraph } from '../core/hf/exportFolder';
import { openHfFolder } from '../core/hf/openFolder';
import { corpusText, diskEntries } from '../core/hf/testing/generatedFolders';
import { splitText, type TextSplit } from '../core/hf/textData';
import { writeModel } from '../core/onnx';
import { parseRecipe, validateRecipe, type Recipe } from '../core/recipe';
import { expectClose } from '../core/testing/expectClose';
import { compressOnDisk } from './run';

const scratch = mkdtempSync(join(tmpdir(), 'lab-hffused-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const PROMPT = 'In the beginning God created';

/** ORT's GroupQueryAttention needs head widths that are multiples of 16. */
const SHAPES = {
  llama: { preset: 'tinyllama-1.1b', overrides: { layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 96, vocab: 512, maxPositions: 128 } },
  gpt2: { preset: 'gpt2', overrides: { layers: 2, hidden: 64, heads: 4, vocab: 512, maxPositions: 128 } },
} as const;

const RECIPES: Record<string, object> = {
  'wanda 25 %': { kind: 'prune', method: 'wanda', pattern: 'unstructured', sparsity: 0.25 },
  'sparsegpt 25 %': { kind: 'prune', method: 'sparsegpt', pattern: 'unstructured', sparsity: 0.25 },
  'gptq 4-bit packed': { kind: 'quantize', method: 'gptq', bits: 4, granularity: 'group', groupSize: 32, export: 'packed' },
};

function recipe(stage: object): Recipe {
  return parseRecipe({ version: 2, seed: 0, calibration: { samples: 8, mode: 'sequential' }, stages: [stage] });
}

async function perplexityAndGreedy(bytes: Uint8Array, split: TextSplit, promptIds: number[]) {
  const runner = await openRunner(bytes);
  try {
    const metrics = await evaluate(runner, split.eval);
    if (metrics.task !== 'causal-lm') throw new Error('expected an LM');
    const { ids } = await generate(runner, { promptIds, maxNewTokens: 6, contextLength: 128, strategy: { kind: 'greedy' } });
    return { perplexity: metrics.perplexity, greedy: ids };
  } finally {
    await runner.release();
  }
}

describe.each(['llama', 'gpt2'] as const)('fused %s export', (family) => {
  const source = join(scratch, `${family}-fused`);
  writeHfFolder({ ...SHAPES[family], out: source, seed: 3, fused: true, layout: 'flat', initStd: 0.3 });

  test.each(Object.keys(RECIPES))('%s: block by block, exported, loaded back, same ids as transformers.js', async (name) => {
    const opened = await openHfFolder(diskEntries(source));
    const tokenizer = opened.tokenizer!.tokenizer;
    const split = splitText(corpusText(), tokenizer, { seqLen: 32, calibShare: 0.5, seed: 0 });
    const denseBytes = writeModel(opened.model);
    const outcome = await compressOnDisk({ onnxPath: join(source, 'model.onnx'), bytes: denseBytes, model: opened.model }, recipe(RECIPES[name]), split.calib, 'wasm', () => {});
    expect(outcome.report.calibration?.sequence).toBe('blockwise');
    const changed = outcome.report.layers.length + outcome.report.quantized.length;
    expect(changed).toBe(2 * (family === 'llama' ? 7 : 4));

    const packed = name.startsWith('gptq');
    const dtype = packed ? 'q4' : 'fp32';
    const out = join(scratch, `${family}-${name.replace(/\W+/g, '-').replace(/-$/, '')}`);
    for (const file of exportFolderFiles({ ...exportGraph(outcome.model, dtype, false), dtype, config: opened.config?.json, copied: opened.copied })) {
      mkdirSync(dirname(join(out, file.path)), { recursive: true });
      writeFileSync(join(out, file.path), file.bytes);
    }
    const exported = await openHfFolder(diskEntries(out));
    if (packed) {
      expect(exported.analysis.linears.filter((l) => l.nBits?.bits === 4)).toHaveLength(changed);
      // The lab's own q4 export read back: a second compression is refused per layer, before any work.
      const again = (stage: object) => validateRecipe(recipe(stage), exported.analysis);
      expect(again(RECIPES['gptq 4-bit packed'])).toEqual([expect.stringMatching(/^stages\[0\]: already quantized, and quantizing again compounds the error \(start from the float model\): \S+ is MatMulNBits 4-bit, block 32; .* and \d+ more$/)]);
      expect(again(RECIPES['wanda 25 %'])).toEqual([expect.stringMatching(/^stages\[0\]: quantised weights cannot be pruned in place \(start from the float model\): \S+ is MatMulNBits 4-bit; /)]);
    }
    // Still fused after compression: the attention kernels are kept, and the attention view says why it shows no maps.
    expect(exported.analysis.fusedAttention.map((node) => node.opType)).toEqual(Array(2).fill(family === 'llama' ? 'GroupQueryAttention' : 'MultiHeadAttention'));
    expect(fusedAttentionNotice(exported.analysis)).toMatch(/^This model's attention is fused \(2 (GroupQuery|MultiHead)Attention nodes\): .* Weight compression is not affected/);

    const promptIds = tokenizer.encode(PROMPT);
    const dense = await perplexityAndGreedy(denseBytes, split, promptIds);
    const compressed = await perplexityAndGreedy(writeModel(exported.model), split, promptIds);
    expect(Number.isFinite(compressed.perplexity)).toBe(true);
    // Mild compression of a random model (init std 0.3, so the context decides the next token and
    // every weight counts): the perplexity moves, by a few per cent (measured: at most 4.3 %).
    expect(compressed.perplexity).not.toBe(dense.perplexity);
    expect(Math.abs(compressed.perplexity / dense.perplexity - 1)).toBeLessThan(0.1);
    console.log(`fused ${family} ${name}: perplexity dense ${dense.perplexity.toFixed(3)}, compressed ${compressed.perplexity.toFixed(3)}`);

    const tjs = await transformersJsGenerate(out, PROMPT, 6, { dtype });
    expect(tjs.promptIds).toEqual(promptIds);
    expect(new Set(tjs.newIds).size).toBeGreaterThan(1); // a continuation the context decides, not one token repeated
    expect(tjs.newIds).toEqual(compressed.greedy.slice(0, tjs.newIds.length));
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))['transformers.js_config'].dtype).toBe(dtype);
  }, 240_000);
});

// BERT as the ORT optimizer leaves it: com.microsoft Attention takes q/k/v packed into one
// [d, 3d] weight as a kernel input, so those three projections are out of reach; the output
// projection (attention.output.dense), the MLP (intermediate.dense, output.dense) and the MLM
// head's transform stay MatMuls, and those are what a recipe compresses.
describe('fused bert export', () => {
  test('wanda 25 %: the output projection, the MLP and the head transform are compressed block by block; q/k/v stay in the kernel', async () => {
    const source = join(scratch, 'bert-fused');
    writeEncoderFolder({ preset: 'bert-base', overrides: { layers: 2, hidden: 64, heads: 4, vocab: 400 }, out: source, seed: 6, initStd: 0.3, fused: true });
    const opened = await openHfFolder(diskEntries(source));
    const denseBytes = writeModel(opened.model);
    const outcome = await compressOnDisk({ onnxPath: join(source, 'onnx/model.onnx'), bytes: denseBytes, model: opened.model }, recipe(RECIPES['wanda 25 %']), randomTokens(8, 16, 395, 1), 'wasm', () => {});
    expect(outcome.report.calibration?.sequence).toBe('blockwise');
    expect(fusedAttentionNotice(opened.analysis)).toMatch(/\(2 Attention nodes\): .* Weight compression still reaches the output projections and the MLP; the Q\/K\/V weights are packed into the kernel and stay as they are\.$/);
    expect(outcome.report.layers.map((l) => l.name)).toEqual([
      ...[0, 1].flatMap((b) => ['attention.output.dense', 'intermediate.dense', 'output.dense'].map((m) => `bert.encoder.layer.${b}.${m}`)),
      'cls.predictions.transform.dense',
    ]);
    const weight = (model: typeof opened.model, name: string) => model.graph!.initializer!.find((t) => t.name === name)!.rawData!;
    for (const b of [0, 1]) {
      const qkv = `bert.encoder.layer.${b}.attention.self.qkv.weight`;
      expect(Buffer.from(weight(outcome.model, qkv)).equals(Buffer.from(weight(opened.model, qkv))), qkv).toBe(true);
    }

    const out = join(scratch, 'bert-wanda');
    for (const file of exportFolderFiles({ ...exportGraph(outcome.model, 'fp32', false), dtype: 'fp32', config: opened.config?.json, copied: opened.copied })) {
      mkdirSync(dirname(join(out, file.path)), { recursive: true });
      writeFileSync(join(out, file.path), file.bytes);
    }
    const text = 'The quick [MASK] fox';
    const [compressed, dense] = [await transformersJsMaskedLm(out, text), await transformersJsMaskedLm(source, text)];
    const exported = await openHfFolder(diskEntries(out));
    const runner = await openRunner(writeModel(exported.model));
    try {
      const row = (values: number[]) => ({ dtype: 'int64' as const, dims: [1, values.length], data: BigInt64Array.from(values, BigInt) });
      const ids = compressed.ids;
      const ours = (await runner.run({ input_ids: row(ids), attention_mask: row(ids.map(() => 1)), token_type_ids: row(ids.map(() => 0)) }, ['logits'])).logits.data as Float32Array;
      expectClose(compressed.logits, ours, { atol: 1e-4, rtol: 1e-4 }, 'transformers.js vs onnxruntime-web on the exported BERT');
    } finally {
      await runner.release();
    }
    expect(compressed.logits).not.toEqual(dense.logits);
  }, 120_000);
});
