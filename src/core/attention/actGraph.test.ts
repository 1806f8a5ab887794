// The ACT graph rewrite against act.ts (itself checked against GATECH-EIC/ACT's code in
// act.test.ts): the rewritten bundled models run in onnxruntime-web (wasm) with both the
// Softmax's own output and the edited tensor tapped, and the edited tensor must equal actEdit()
// applied to the tapped original, per sample, on real and random inputs of several lengths.
import { describe, expect, test } from 'vitest';
import { calibrationFeeds } from '../calibrate/feeds.ts';
import { bundledModel, openRunner, randomTokens } from '../calibrate/fixtures/models.ts';
import { instrumentModel } from '../calibrate/instrument.ts';
import type { LmTokenDataset } from '../eval/datasets.ts';
import type { HostTensor } from '../eval/runner.ts';
import { readModel } from '../onnx/read.ts';
import { writeModel } from '../onnx/write.ts';
import type { ModelProto } from '../onnx/types.ts';
import { expectClose } from '../testing/expectClose.ts';
import { ACT_REFERENCE_PARAMS, actEdit, findSinks, sinkScores } from './act.ts';
import { ActGraphError, applyActToGraph, type ActGraphSite, type ActSiteSelection } from './actGraph.ts';

/** ORT float32 (its own summation order) against act.ts in float64 on the same float32 input: measured ≤ 6e-8. */
const TOLERANCE = { atol: 2e-7, rtol: 0 };

const lm = bundledModel('kjv-charlm');
const vit = bundledModel('digits-vit');
/** Byte equality (vitest's toEqual walks a 2 MB array element by element). */
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
/** The LM's characters (its token embedding's rows). */
const LM_VOCAB = 63;
const logitsOf = (model: ModelProto) => model.graph!.output![0].name!;

/** Heads with hidden sinks (two or more keys above τ) on the evaluation set's first sample. */
const LM_SELECTION: ActSiteSelection[] = [
  { site: lm.analysis.attention[2], heads: [0, 2] },
  { site: lm.analysis.attention[4], heads: [3] },
];

async function runTapped(bytes: Uint8Array, taps: string[], feeds: Record<string, HostTensor>) {
  const runner = await openRunner(writeModel(instrumentModel(readModel(bytes), taps)));
  try {
    return await runner.run(feeds);
  } finally {
    await runner.release();
  }
}

const lmWindow = (length: number, first: number, count: number): LmTokenDataset => {
  if (lm.eval.kind !== 'lm-tokens') throw new Error('expected LM tokens');
  return { kind: 'lm-tokens', seqLen: length, sequences: lm.eval.sequences.slice(first, first + count) };
};

/**
 * Edited = actEdit(original) for every sample; unselected heads bit-identical. Returns the
 * largest change ACT made on a selected head and the smallest |score − τ| seen.
 */
function checkSite(outputs: Record<string, HostTensor>, site: ActGraphSite, causal: boolean, label: string) {
  const original = outputs[site.original];
  const edited = outputs[site.edited];
  expect(edited.dims).toEqual(original.dims);
  const [batch, heads, tokens] = original.dims;
  const size = tokens * tokens;
  let maxChange = 0;
  let minMargin = Infinity;
  for (let b = 0; b < batch; b++) {
    const p = (original.data as Float32Array).subarray(b * heads * size, (b + 1) * heads * size);
    const e = (edited.data as Float32Array).subarray(b * heads * size, (b + 1) * heads * size);
    expectClose(e, actEdit(p, heads, tokens, causal, site.heads), TOLERANCE, `${label} ${site.softmaxNode} sample ${b}`);
    for (let h = 0; h < heads; h++) {
      const [ph, eh] = [p.subarray(h * size, (h + 1) * size), e.subarray(h * size, (h + 1) * size)];
      if (!site.heads.includes(h)) {
        expect(eh.every((v, k) => Object.is(v, ph[k])), `${label} unselected head ${h} bit-identical`).toBe(true);
        continue;
      }
      eh.forEach((v, k) => (maxChange = Math.max(maxChange, Math.abs(v - ph[k]))));
      const scores = sinkScores(ph, tokens, causal);
      scores.forEach((s) => (minMargin = Math.min(minMargin, Math.abs(s - 0.1))));
    }
  }
  return { maxChange, minMargin };
}

describe('ACT graph rewrite on the bundled character LM (causal)', () => {
  const rewritten = applyActToGraph(lm.model, LM_SELECTION);
  // write → read → write: the file round-trips byte for byte, and the re-read file is what runs.
  const bytes = writeModel(rewritten.model);
  const reread = readModel(bytes);

  test('standard ops only, inserted after each Softmax; the original model is untouched', () => {
    expect(sameBytes(writeModel(reread), bytes)).toBe(true);
    expect(rewritten.sites.map((s) => s.softmaxNode)).toEqual(LM_SELECTION.map((s) => s.site.softmaxNode));
    const added = rewritten.model.graph!.node!.length - lm.model.graph!.node!.length;
    expect(added).toBe(rewritten.sites.reduce((n, s) => n + s.nodes, 0));
    expect(rewritten.sites.map((s) => s.nodes)).toEqual([26, 26]); // the op list of docs/attention.md
    expect(rewritten.model.graph!.node!.every((n) => !n.domain)).toBe(true);
    expect(sameBytes(writeModel(lm.model), lm.bytes)).toBe(true);
    // The probabilities·V MatMul now reads the edited tensor.
    for (const { site } of LM_SELECTION) {
      const context = rewritten.model.graph!.node!.find((n) => n.name === site.contextNode)!;
      expect(context.input).toContain(rewritten.sites.find((s) => s.softmaxNode === site.softmaxNode)!.edited);
      expect(context.input).not.toContain(site.output);
    }
  });

  const taps = rewritten.sites.flatMap((s) => [s.original, s.edited]);
  test.each([
    ['eval sequences, T = 128', lmWindow(128, 0, 2)],
    ['eval sequences, T = 37', lmWindow(37, 5, 2)],
    ['eval sequence, T = 9', lmWindow(9, 11, 1)],
    ['random tokens, T = 64', randomTokens(2, 64, LM_VOCAB, 7)],
    ['random tokens, T = 3', randomTokens(1, 3, LM_VOCAB, 8)],
  ])('%s: edited attention = actEdit(captured attention)', async (label, dataset) => {
    const feeds = calibrationFeeds(dataset, dataset.sequences.map((_, i) => i), 'input_ids');
    const outputs = await runTapped(bytes, taps, feeds);
    const results = rewritten.sites.map((site) => checkSite(outputs, site, true, label));
    if (dataset.seqLen >= 37) expect(Math.max(...results.map((r) => r.maxChange)), 'ACT changed something').toBeGreaterThan(1e-3);
    expect(Math.min(...results.map((r) => r.minMargin)), 'no sink score within float noise of τ').toBeGreaterThan(1e-5);
  });

  test('the logits change when heads are selected, and not at all when every selector is false', async () => {
    const feeds = calibrationFeeds(lmWindow(128, 0, 2), [0, 1], 'input_ids');
    const logits = logitsOf(lm.model);
    const base = (await runTapped(lm.bytes, [logits], feeds))[logits].data as Float32Array;
    const edited = (await runTapped(bytes, [logits], feeds))[logits].data as Float32Array;
    const none = applyActToGraph(lm.model, lm.analysis.attention.map((site) => ({ site, heads: [] })), ACT_REFERENCE_PARAMS, { keepEmptySites: true });
    expect(none.sites.length).toBe(lm.analysis.attention.length);
    const unselected = (await runTapped(writeModel(none.model), [logits], feeds))[logits].data as Float32Array;
    expect(unselected.every((v, k) => Object.is(v, base[k]))).toBe(true);
    expect(Math.max(...edited.map((v, k) => Math.abs(v - base[k])))).toBeGreaterThan(1e-3);
  });

  test('the α/T threshold form and another β run through the same ops', async () => {
    const params = { threshold: { kind: 'relative', alpha: 8 } as const, beta: 0.7 };
    const result = applyActToGraph(lm.model, [LM_SELECTION[0]], params);
    const outputs = await runTapped(writeModel(result.model), [result.sites[0].original, result.sites[0].edited], calibrationFeeds(lmWindow(50, 3, 1), [0], 'input_ids'));
    const site = result.sites[0];
    const original = outputs[site.original];
    const [, heads, tokens] = original.dims;
    expectClose(outputs[site.edited].data as Float32Array, actEdit(original.data as Float32Array, heads, tokens, true, site.heads, params), TOLERANCE, 'α/T');
  });
});

describe('ACT graph rewrite on the digits ViT (not causal)', () => {
  test('one head of block 1, on evaluation images', async () => {
    const site = vit.analysis.attention[1];
    expect(site.causalMask).toBe(false);
    const result = applyActToGraph(vit.model, [{ site, heads: [0] }]);
    const outputs = await runTapped(writeModel(result.model), [site.output, result.sites[0].edited], calibrationFeeds(vit.eval, [0, 1, 2, 3], 'pixels'));
    expect(result.sites[0].nodes).toBe(23); // no Range / Cast / Sub: every query sees every key
    const { maxChange } = checkSite(outputs, result.sites[0], false, 'ViT');
    expect(maxChange).toBeGreaterThan(1e-3);
    const first = (outputs[site.output].data as Float32Array).subarray(0, 17 * 17);
    expect(findSinks(sinkScores(first, 17, false), 0.1).edited.length).toBeGreaterThan(0);
  });
});

describe('refusals', () => {
  test('a head outside the site, and an opset without CumSum', () => {
    const site = lm.analysis.attention[0];
    expect(() => applyActToGraph(lm.model, [{ site, heads: [4] }])).toThrow(ActGraphError);
    const old = { ...lm.model, opsetImport: [{ domain: '', version: 10 }] };
    expect(() => applyActToGraph(old, [{ site, heads: [0] }])).toThrow(/opset 11/);
  });
});
