// Optimum's merged decoder (decoder_model_merged.onnx: an If on use_cache_branch whose branches
// hold the decoder, the weights shared at top level; src/core/hf/testing/mergedDecoder.ts builds
// one from a generated export) is unmerged at open time (src/core/hf/unmerge.ts): the no-cache
// branch is analysed, compressed block by block through the CLI's path, and exported as a plain
// decoder that onnxruntime-web and transformers.js load and generate the same ids from.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { transformersJsGenerate } from '../../scripts/gen/hf/transformersJs';
import { lmPerplexity, openRunner } from '../core/calibrate/fixtures/models';
import { evaluate } from '../core/eval/evaluate';
import { generate } from '../core/eval/generate';
import { exportFolderFiles, exportGraph } from '../core/hf/exportFolder';
import { openHfFolder } from '../core/hf/openFolder';
import { corpusText, diskEntries, generatedFolder } from '../core/hf/testing/generatedFolders';
import { mergedDecoder } from '../core/hf/testing/mergedDecoder';
import { splitText } from '../core/hf/textData';
import { writeModel } from '../core/onnx';
import { parseRecipe } from '../core/recipe';
import { compressOnDisk } from './run';

const scratch = mkdtempSync(join(tmpdir(), 'lab-hfmerged-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const PROMPT = 'In the beginning God created';

describe("Optimum's merged decoder", () => {
  test('is unmerged at open, compressed block by block, and exported as a plain decoder transformers.js generates from', async () => {
    const source = generatedFolder('llama');
    const plain = await openHfFolder(diskEntries(source));
    const folder = join(scratch, 'merged');
    mkdirSync(folder);
    const mergedBytes = writeModel(mergedDecoder(plain.model));
    writeFileSync(join(folder, 'decoder_model_merged.onnx'), mergedBytes);
    for (const name of readdirSync(source).filter((n) => n.endsWith('.json'))) copyFileSync(join(source, name), join(folder, name));

    const opened = await openHfFolder(diskEntries(folder));
    expect(opened.plan.model.path).toBe('decoder_model_merged.onnx');
    expect(opened.plan.notes).toContain(
      "decoder_model_merged.onnx is Optimum's merged decoder: its no-cache branch (use_cache_branch = false) is the graph the lab analyses and compresses, and the export is that plain decoder (onnx/model.onnx), not a merged one.",
    );
    const ops = opened.model.graph!.node!;
    expect(ops.some((n) => n.opType === 'If')).toBe(false);
    expect(ops.every((n) => n.name!.startsWith('decoder_without_past/'))).toBe(true); // the else branch
    expect(opened.model.graph!.input!.map((i) => i.name)).toEqual(plain.model.graph!.input!.map((i) => i.name)); // use_cache_branch gone
    expect(opened.analysis.linears.map((l) => [l.block, l.role, l.id])).toEqual(plain.analysis.linears.map((l) => [l.block, l.role, l.id]));
    expect(opened.lmInputs.ok).toBe(true);
    expect(opened.disagreements).toEqual([]);

    const tokenizer = opened.tokenizer!.tokenizer;
    const split = splitText(corpusText(), tokenizer, { seqLen: 32, calibShare: 0.5, seed: 0 });
    // The unmerged graph computes what the merged one does with use_cache_branch = false.
    const dense = await lmPerplexity(writeModel(opened.model), split.eval);
    expect(dense).toBe(await lmPerplexity(mergedBytes, split.eval));

    const recipe = parseRecipe({ version: 2, seed: 0, calibration: { samples: 8, mode: 'sequential' }, stages: [{ kind: 'prune', method: 'wanda', pattern: 'unstructured', sparsity: 0.5 }] });
    const outcome = await compressOnDisk({ onnxPath: join(folder, opened.plan.model.path), bytes: writeModel(opened.model), model: opened.model }, recipe, split.calib, 'wasm', () => {});
    expect(outcome.report.calibration?.sequence).toBe('blockwise');
    expect(outcome.report.layers).toHaveLength(14);

    const out = join(scratch, 'merged-wanda');
    for (const file of exportFolderFiles({ ...exportGraph(outcome.model, 'fp32', false), dtype: 'fp32', config: opened.config?.json, copied: opened.copied })) {
      mkdirSync(dirname(join(out, file.path)), { recursive: true });
      writeFileSync(join(out, file.path), file.bytes);
    }
    const exported = await openHfFolder(diskEntries(out));
    expect(exported.plan.model.path).toBe('onnx/model.onnx');
    expect(exported.plan.notes.join(' ')).not.toContain('merged');
    const runner = await openRunner(writeModel(exported.model));
    let greedy: number[];
    try {
      const metrics = await evaluate(runner, split.eval);
      if (metrics.task !== 'causal-lm') throw new Error('expected an LM');
      expect(Number.isFinite(metrics.perplexity)).toBe(true);
      expect(metrics.perplexity).not.toBe(dense);
      console.log(`merged decoder, wanda 50 %: perplexity dense ${dense.toFixed(3)}, compressed ${metrics.perplexity.toFixed(3)}`);
      greedy = (await generate(runner, { promptIds: tokenizer.encode(PROMPT), maxNewTokens: 6, contextLength: 128, strategy: { kind: 'greedy' } })).ids;
    } finally {
      await runner.release();
    }
    const tjs = await transformersJsGenerate(out, PROMPT, 6, { dtype: 'fp32' });
    expect(tjs.newIds.length).toBeGreaterThan(0);
    expect(tjs.newIds).toEqual(greedy.slice(0, tjs.newIds.length));
  }, 240_000);
});
