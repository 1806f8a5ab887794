// Attention capture through onnxruntime-web (wasm) on the bundled char LM and digits ViT: every
// site and head comes back as [heads, T, T], rows are distributions, the LM's maps are causal,
// the instrumented copy computes the same logits as the original, and the statistics of the
// captured maps equal a plain recomputation. Fused or missing attention gives a reason, not a throw.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { CharTokenizer, parseVocab } from '../catalog/vocab.ts';
import { bundledModel, openRunner, type BundledModel } from '../calibrate/fixtures/models.ts';
import type { ImageDataset } from '../eval/datasets.ts';
import type { ModelRunner } from '../eval/runner.ts';
import { runnerInputInfo } from '../eval/lmInputs.ts';
import { analyzeModel } from '../model/analyze.ts';
import { floatInit, model, node } from '../model/testGraphs.ts';
import { expectClose } from '../testing/expectClose.ts';
import { attentionFeeds, captureAttention, captureModel, type AttentionInput, type CapturedAttention, type SiteAttention } from './capture.ts';
import { attentionStats } from './stats.ts';

const root = join(import.meta.dirname, '../../..');
const GENESIS = 'In the beginning God created the heaven and the earth.\nAnd the earth was without form, and void;';

/** Captures one input; also returns the original model's logits for the same feeds. */
async function capture(bundled: BundledModel, input: AttentionInput): Promise<{ captured: CapturedAttention; sameLogits: boolean }> {
  const plan = captureModel(bundled.model, bundled.analysis);
  if (!plan.ok) throw new Error(plan.reason);
  const [instrumented, original]: ModelRunner[] = await Promise.all([openRunner(plan.bytes), openRunner(bundled.bytes)]);
  try {
    const captured = await captureAttention(instrumented, plan.sites, input);
    const feeds = attentionFeeds(input, runnerInputInfo(original));
    const [a, b] = await Promise.all([instrumented.run(feeds), original.run(feeds)]);
    const name = original.outputNames[0];
    const sameLogits = (a[name].data as Float32Array).every((v, i) => v === (b[name].data as Float32Array)[i]);
    return { captured, sameLogits };
  } finally {
    await Promise.all([instrumented.release(), original.release()]);
  }
}

/** Row sums within 1e-5, zeros above the diagonal when causal. Returns the largest row-sum error. */
function checkMaps(site: SiteAttention): number {
  const { heads, tokens: T, probabilities: p } = site;
  expect(p.length).toBe(heads * T * T);
  let worst = 0;
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < T; i++) {
      let sum = 0;
      for (let j = 0; j < T; j++) {
        const a = p[(h * T + i) * T + j];
        sum += a;
        if (site.causal && j > i && a !== 0) throw new Error(`${site.softmaxNode} head ${h}: A[${i}][${j}] = ${a} above the diagonal`);
      }
      worst = Math.max(worst, Math.abs(sum - 1));
    }
  expect(worst).toBeLessThan(1e-5);
  return worst;
}

/** The statistics written out plainly, key by key (column first), independent of stats.ts's loops. */
function plainHeadStats(site: SiteAttention, h: number, tau: number) {
  const T = site.tokens;
  const a = (i: number, j: number) => site.probabilities[(h * T + i) * T + j];
  const scores: number[] = [];
  for (let j = 0; j < T; j++) {
    const seenBy = site.causal ? T - j : T;
    let column = 0;
    for (let i = 0; i < T; i++) column += a(i, j);
    scores.push(column / seenBy);
  }
  const sinks = scores.flatMap((s, j) => (s > tau ? [j] : []));
  let mass = 0;
  let entropy = 0;
  for (let i = 0; i < T; i++) {
    for (const j of sinks) mass += a(i, j) / T;
    for (let j = 0; j < T; j++) if (a(i, j) > 0) entropy -= (a(i, j) * Math.log(a(i, j))) / T;
  }
  return { scores, sinks, mass, entropy };
}

function checkStats(captured: CapturedAttention): void {
  const layers = attentionStats(captured);
  layers.forEach((layer, l) =>
    layer.heads.forEach((head, h) => {
      const plain = plainHeadStats(captured.sites[l], h, 0.1);
      expectClose(head.sinkScores, plain.scores, { atol: 1e-12, rtol: 1e-9 }, `${layer.softmaxNode} head ${h} sink scores`);
      expect(head.sinks).toEqual(plain.sinks);
      expectClose([head.sinkMass, head.entropy], [plain.mass, plain.entropy], { atol: 1e-12, rtol: 1e-9 }, `${layer.softmaxNode} head ${h}`);
    }),
  );
}

/** One line per layer: per head sinks, sink mass and entropy (what docs/attention.md quotes). */
function summary(captured: CapturedAttention): string {
  return attentionStats(captured)
    .map((layer) => `block ${layer.block}: ` + layer.heads.map((h, i) => `h${i} sinks [${h.sinks.join(',')}] m0=${h.sinkScores[0].toFixed(3)} mass ${h.sinkMass.toFixed(3)} H ${h.entropy.toFixed(2)}`).join(' | '))
    .join('\n');
}

describe('attention capture on the bundled LM (kjv-charlm)', () => {
  let lm: BundledModel;
  let result: { captured: CapturedAttention; sameLogits: boolean };
  beforeAll(async () => {
    lm = bundledModel('kjv-charlm');
    const tokenizer = new CharTokenizer(parseVocab(JSON.parse(readFileSync(join(root, 'public/models/kjv-charlm/vocab.json'), 'utf8')), 'vocab.json'));
    result = await capture(lm, { kind: 'tokens', ids: tokenizer.encode(GENESIS) });
  }, 30_000);

  test('6 sites × 4 heads of [T, T] causal maps whose rows sum to 1; logits unchanged by the taps', () => {
    const { captured } = result;
    const T = [...GENESIS].length;
    expect(captured.tokens).toBe(T);
    expect(captured.sites.map((s) => [s.block, s.heads, s.tokens, s.causal])).toEqual([0, 1, 2, 3, 4, 5].map((b) => [b, 4, T, true]));
    const worst = Math.max(...captured.sites.map(checkMaps));
    expect(result.sameLogits).toBe(true);
    console.log(`kjv-charlm, T = ${T}: max |row sum − 1| = ${worst.toExponential(2)}\n${summary(captured)}`);
  });

  test('statistics of the captured maps equal a plain recomputation; not every head is uniform', () => {
    checkStats(result.captured);
    const T = result.captured.tokens;
    const entropies = attentionStats(result.captured).flatMap((layer) => layer.heads.map((h) => h.entropy));
    // A uniform causal map has mean row entropy (1/T)·Σ ln(i+1); a trained LM attends sharper.
    let uniform = 0;
    for (let i = 1; i <= T; i++) uniform += Math.log(i) / T;
    expect(Math.min(...entropies)).toBeLessThan(uniform * 0.8);
  });
});

describe('attention capture on the bundled ViT (digits-vit)', () => {
  let vit: BundledModel;
  let captured: CapturedAttention;
  beforeAll(async () => {
    vit = bundledModel('digits-vit');
    ({ captured } = await capture(vit, { kind: 'image', dataset: vit.eval as ImageDataset, index: 0 }));
  }, 30_000);

  test('4 sites × 4 heads of non-causal [T, T] maps whose rows sum to 1', () => {
    expect(captured.sites.map((s) => [s.block, s.heads, s.causal])).toEqual([0, 1, 2, 3].map((b) => [b, 4, false]));
    for (const site of captured.sites) expect(site.tokens).toBe(captured.tokens);
    const worst = Math.max(...captured.sites.map(checkMaps));
    // Non-causal: some probability above the diagonal is non-zero.
    expect(captured.sites[0].probabilities[1]).toBeGreaterThan(0);
    console.log(`digits-vit, image 0, T = ${captured.tokens}: max |row sum − 1| = ${worst.toExponential(2)}\n${summary(captured)}`);
  });

  test('statistics of the captured maps equal a plain recomputation', () => checkStats(captured));
});

describe('models whose attention cannot be captured', () => {
  test('a fused com.microsoft Attention node: the reason names it and the export setting that unfuses it', () => {
    const fused = model({
      nodes: [node('Attention', ['x', 'qkv_weight', 'qkv_bias'], ['y'], { name: 'attn', domain: 'com.microsoft', attrs: { num_heads: 4 } })],
      initializers: [floatInit('qkv_weight', [32, 96]), floatInit('qkv_bias', [96])],
    });
    const plan = captureModel(fused, analyzeModel(fused));
    expect(plan.ok).toBe(false);
    if (plan.ok) return;
    expect(plan.reason).toMatch(/^The attention is fused \(1 node\(s\): com\.microsoft Attention\)/);
    expect(plan.reason).toMatch(/attn_implementation="eager"/);
    expect(plan.reason).toMatch(/--no-post-process/);
  });

  test('a model without attention (one MatMul) says none was found', () => {
    const mlp = model({ nodes: [node('MatMul', ['x', 'W'], ['y'], { name: 'fc' })], initializers: [floatInit('W', [32, 16])] });
    const plan = captureModel(mlp, analyzeModel(mlp));
    expect(plan).toMatchObject({ ok: false, reason: expect.stringMatching(/^No attention found/) });
  });
});
