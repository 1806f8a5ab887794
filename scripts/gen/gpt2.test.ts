// The generated GPT-2-shaped model (issue 7, "a GPT-2-small-sized model in the tab"), on a small
// instance: 2 blocks, GPT-2's width (d 768, 12 heads), a 512-token vocabulary. The analysis must
// see what an Optimum export of GPT-2 holds, ORT must run it, and `lab eval` must accept its folder.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { parseModelCard } from '../../src/core/catalog/modelCard.ts';
import { parseDataset } from '../../src/core/eval/datasets.ts';
import { evaluate } from '../../src/core/eval/evaluate.ts';
import { analyzeModel } from '../../src/core/model/index.ts';
import { readModel } from '../../src/core/onnx/index.ts';
import { createRunner } from '../../src/runtime/ort.ts';
import { buildGpt2Files } from './gpt2Dir.ts';
import { GPT2_SMALL, gpt2ParameterCount } from './gpt2Model.ts';

const shape = { ...GPT2_SMALL, blocks: 2, vocab: 512, context: 128 };
const files = buildGpt2Files({ shape, seed: 1, seqLen: 64, calibSequences: 4, evalSequences: 8 });
const analysis = analyzeModel(readModel(files.onnx));

/**
 * Chance-level loss of a random tied LM, derived outside the code: the final LayerNorm leaves
 * unit-variance features, so each logit ⟨h, wte_v⟩ is ≈ N(0, σ²) with σ² = d·0.02²; the target is
 * an independent uniform id, so E[NLL] = E[logsumexp] − E[logit_target] ≈ ln V + σ²/2.
 */
const chanceNll = Math.log(shape.vocab) + (shape.dModel * 0.02 ** 2) / 2;

describe('gen:gpt2', () => {
  test('GPT-2 small has the published 124,439,808 parameters (the gpt2 checkpoint, tied head)', () => {
    expect(gpt2ParameterCount(GPT2_SMALL)).toBe(124_439_808);
  });

  test('the analysis finds 4 linears per block and a tied head, with their roles and widths', () => {
    expect(analysis.task).toBe('causal-lm');
    expect(analysis.numBlocks).toBe(2);
    expect(analysis.blockSource).toBe('name');
    expect(analysis.linears.map((l) => [l.name, l.block, l.role, l.outFeatures, l.inFeatures])).toEqual([
      ['transformer.h.0.attn.c_attn', 0, 'attn.qkv', 2304, 768],
      ['transformer.h.0.attn.c_proj', 0, 'attn.out', 768, 768],
      ['transformer.h.0.mlp.c_fc', 0, 'mlp.up', 3072, 768],
      ['transformer.h.0.mlp.c_proj', 0, 'mlp.down', 768, 3072],
      ['transformer.h.1.attn.c_attn', 1, 'attn.qkv', 2304, 768],
      ['transformer.h.1.attn.c_proj', 1, 'attn.out', 768, 768],
      ['transformer.h.1.mlp.c_fc', 1, 'mlp.up', 3072, 768],
      ['transformer.h.1.mlp.c_proj', 1, 'mlp.down', 768, 3072],
      ['lm_head', null, 'head', 512, 768],
    ]);
    for (const layer of analysis.linears.slice(0, 8)) expect(layer).toMatchObject({ layout: 'in_out', bias: `${layer.name}.bias` });
    expect(analysis.linears[8]).toMatchObject({ weight: 'transformer.wte.weight', weightPath: ['Transpose'], sharedWith: ['/transformer/wte/Gather'] });
    expect(analysis.embeddings.map((e) => [e.kind, e.weight, e.tiedTo])).toEqual([
      ['token', 'transformer.wte.weight', 'transformer.wte.weight'],
      ['position', 'transformer.wpe.weight', null],
    ]);
    expect(analysis.warnings).toEqual([]);
    expect(analysis.unsupported).toEqual([]);
  });

  test('each block has one causal attention site with 12 heads of 64, fed by c_attn and read by c_proj', () => {
    expect(analysis.attention.map((s) => [s.block, s.heads, s.headDim, s.headsSource, s.causalMask, s.q, s.k, s.v, s.out])).toEqual(
      [0, 1].map((b) => {
        const qkv = `transformer.h.${b}.attn.c_attn.weight`;
        return [b, 12, 64, 'reshape', true, qkv, qkv, qkv, `transformer.h.${b}.attn.c_proj.weight`];
      }),
    );
  });

  test('the file holds the counted parameters plus seven float scalars (scale, mask value, five GELU constants)', () => {
    expect(analysis.totalParams).toBe(gpt2ParameterCount(shape) + 7);
    expect(files.card.parameters).toBe(gpt2ParameterCount(shape));
    expect(files.card.onnx.bytes).toBe(files.onnx.byteLength);
  });

  test('ORT (wasm) runs it, and its loss is that of chance', async () => {
    const { runner } = await createRunner(files.onnx, { backend: 'wasm', numThreads: 1 });
    try {
      const metrics = await evaluate(runner, parseDataset(files.eval, 'eval.json'));
      expect(metrics.task).toBe('causal-lm');
      expect(metrics).toMatchObject({ evalTokens: 8 * 64 });
      // 512 tokens of a mean whose per-token spread is ≈ σ (0.55): 0.1 is over 4 standard errors.
      expect(Math.abs((metrics as { meanNll: number }).meanNll - chanceNll)).toBeLessThan(0.1);
    } finally {
      await runner.release();
    }
  });
});

describe('npm run lab on a generated folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-gpt2-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('the folder parses as a model card with its sets, and `lab eval DIR` evaluates it', async () => {
    writeFileSync(join(dir, 'model.onnx'), files.onnx);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(files.card));
    writeFileSync(join(dir, 'calib.json'), JSON.stringify(files.calib));
    writeFileSync(join(dir, 'eval.json'), JSON.stringify(files.eval));
    expect(parseModelCard(JSON.parse(JSON.stringify(files.card)), 'model.json').files).toEqual({ model: 'model.onnx', eval: 'eval.json', calib: 'calib.json' });
    expect(parseDataset(JSON.parse(JSON.stringify(files.calib)), 'calib.json')).toMatchObject({ kind: 'lm-tokens', seqLen: 64 });
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/lab.ts', 'eval', dir, '--json'], { encoding: 'utf8' });
    const { metrics } = JSON.parse(stdout) as { metrics: { meanNll: number; evalTokens: number } };
    expect(metrics.evalTokens).toBe(8 * 64);
    expect(Math.abs(metrics.meanNll - chanceNll)).toBeLessThan(0.1);
  }, 120_000);
});
