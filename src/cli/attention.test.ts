// `lab attention <model> --text "…" | --image N`: the text goes through the model's vocab.json,
// the statistics it prints are those of the core capture on the same input (exact, through
// JSON), --tau and --alpha set the threshold the sink sets follow, and a model whose
// attention is fused is refused in one line that says which export setting unfuses it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { captureAttention, captureModel } from '../core/attention/capture';
import { attentionStats, averageStats } from '../core/attention/stats';
import type { ImageDataset } from '../core/eval/datasets';
import { CharTokenizer, parseVocab } from '../core/catalog/vocab';
import { bundledModel, openRunner } from '../core/calibrate/fixtures/models';
import { floatInit, model, node } from '../core/model/testGraphs';
import { writeModel } from '../core/onnx';
import { runLab } from './testing';

const scratch = mkdtempSync(join(tmpdir(), 'lab-attention-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const lab = runLab;

interface HeadJson {
  head: number;
  sinks: { key: number; score: number }[];
  sinkMass: number;
  entropy: number;
  sinkScores: number[];
}
interface AttentionJson {
  tokens: number;
  tau: number;
  layers: { block: number; sinkMass: number; entropy: number; heads: HeadJson[] }[];
}

const TEXT = 'And God said, Let there be light: and there was light.';
const lm = 'public/models/kjv-charlm';

describe('lab attention', () => {
  test('LM text: the JSON is the core capture of the same tokens; the table labels sink keys with their characters', async () => {
    const [reference, table] = await Promise.all([
      lab('attention', lm, '--text', TEXT, '--json'),
      lab('attention', lm, '--text', TEXT, '--tau', '0.3'),
    ]);
    expect(reference.code).toBe(0);
    const json = JSON.parse(reference.stdout) as AttentionJson;
    expect([json.tokens, json.tau, json.layers.length, json.layers[0].heads.length]).toEqual([TEXT.length, 0.1, 6, 4]);

    // In process: the tokenizer, the instrumented copy, one run, the statistics.
    const bundled = bundledModel('kjv-charlm');
    const tokenizer = new CharTokenizer(parseVocab(JSON.parse(readFileSync(join(lm, 'vocab.json'), 'utf8')), 'vocab.json'));
    const plan = captureModel(bundled.model, bundled.analysis);
    if (!plan.ok) throw new Error(plan.reason);
    const runner = await openRunner(plan.bytes);
    const layers = attentionStats(await captureAttention(runner, plan.sites, { kind: 'tokens', ids: tokenizer.encode(TEXT) }));
    await runner.release();
    layers.forEach((layer, l) =>
      layer.heads.forEach((head, h) => {
        const printed = json.layers[l].heads[h];
        expect(printed.sinkScores).toEqual([...head.sinkScores]);
        expect(printed.sinks).toEqual(head.sinks.map((key) => ({ key, score: head.sinkScores[key] })));
        expect([printed.sinkMass, printed.entropy]).toEqual([head.sinkMass, head.entropy]);
      }),
    );

    // The table: one row per head and a mean row per layer, sink keys labelled with their character.
    const lines = table.stdout.trim().split('\n');
    expect(lines[1]).toMatch(/^54 tokens, 6 attention layers; sink: score > 0\.300/);
    expect(lines.filter((line) => /^\s+\d+\s+\d+\s+\d\.\d{3}\s+\d\.\d{3}\s/.test(line))).toHaveLength(24);
    expect(lines.filter((line) => /^\s+\d+\s+mean\s/.test(line))).toHaveLength(6);
    const strongest = json.layers.flatMap((layer) => layer.heads.flatMap((head) => head.sinks.filter((s) => s.score > 0.3)));
    expect(strongest.length).toBeGreaterThan(0);
    expect(table.stdout).toContain(`${strongest[0].key} ${JSON.stringify(TEXT[strongest[0].key])}: ${strongest[0].score.toFixed(3)}`);
  }, 60_000);

  test('ViT image with the α/T threshold: non-causal maps over 17 tokens; --samples averages over the set; text for an image model is refused', async () => {
    const [image, text, set] = await Promise.all([
      lab('attention', 'public/models/digits-vit', '--image', '5', '--alpha', '2', '--json'),
      lab('attention', 'public/models/digits-vit', '--text', 'hi'),
      lab('attention', 'public/models/digits-vit', '--samples', '3', '--json'),
    ]);
    const json = JSON.parse(image.stdout) as AttentionJson & { input: { index: number; label: number } };
    expect([json.tokens, json.layers.length, json.input.index]).toEqual([17, 4, 5]);
    // α/T: τ = 2/17, twice a uniform row's share; the sinks are exactly the keys above it.
    expect(json.tau).toBeCloseTo(2 / 17, 15);
    for (const layer of json.layers)
      for (const head of layer.heads) expect(head.sinks.map((s) => s.key)).toEqual(head.sinkScores.flatMap((score, j) => (score > json.tau ? [j] : [])));
    // No causal mask: the last key is seen by all 17 queries, so its score is at most 1 (a causal
    // map's last key is scored by one query alone).
    for (const layer of json.layers) for (const head of layer.heads) expect(head.sinkScores.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    // --samples 3: the average over images 0, 1, 2 of what the core computes for each.
    const vit = bundledModel('digits-vit');
    const plan = captureModel(vit.model, vit.analysis);
    if (!plan.ok) throw new Error(plan.reason);
    const runner = await openRunner(plan.bytes);
    const perImage = [];
    for (const index of [0, 1, 2]) perImage.push(attentionStats(await captureAttention(runner, plan.sites, { kind: 'image', dataset: vit.eval as ImageDataset, index })));
    await runner.release();
    const averaged = averageStats(perImage);
    const printed = JSON.parse(set.stdout) as { samples: number; layers: { sinkMass: number; heads: { sinkMass: number; entropy: number; sinkFrequency: number[] }[] }[] };
    expect(printed.samples).toBe(3);
    averaged.forEach((layer, l) => {
      expect(printed.layers[l].sinkMass).toBe(layer.sinkMass);
      layer.heads.forEach((head, h) => {
        expect([printed.layers[l].heads[h].sinkMass, printed.layers[l].heads[h].entropy]).toEqual([head.sinkMass, head.entropy]);
        expect(printed.layers[l].heads[h].sinkFrequency).toEqual([...head.sinkFrequency!]);
      });
    });
    expect(text).toMatchObject({ code: 1, stderr: expect.stringMatching(/^error: attention: digits-vit is an image classifier; pick an evaluation image with --image N\n$/) });
  }, 60_000);

  test('a fused com.microsoft Attention model is refused with the export setting that unfuses it', async () => {
    const fused = join(scratch, 'fused.onnx');
    writeFileSync(
      fused,
      writeModel(
        model({
          nodes: [node('Attention', ['x', 'qkv_weight', 'qkv_bias'], ['y'], { name: 'attn', domain: 'com.microsoft', attrs: { num_heads: 4 } })],
          initializers: [floatInit('qkv_weight', [32, 96]), floatInit('qkv_bias', [96])],
        }),
      ),
    );
    const set = join(scratch, 'set.json');
    writeFileSync(set, JSON.stringify({ kind: 'image-classification', shape: [1, 32], preprocess: { divide: 1 }, images: [Array(32).fill(0)], labels: [0] }));
    const { code, stdout, stderr } = await lab('attention', fused, '--dataset', set, '--image', '0');
    expect([code, stdout]).toEqual([1, '']);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: .*fused\.onnx: The attention is fused \(1 node\(s\): com\.microsoft Attention\).*attn_implementation="eager".*--no-post-process\)\.$/);
  }, 60_000);
});
