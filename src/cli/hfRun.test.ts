// `lab run <recipe> <hf-folder> --text …` and `lab generate <hf-folder>` as users run them, on
// generated 2-block exports (npm run gen:hf) and a short text of the bundled public-domain corpus:
// GPTQ 4-bit packed on the Llama-shaped folder (weights in model.onnx_data), SparseGPT 50 % on the
// GPT-2 folder; both calibrated block by block. The printed perplexities and bits per byte are
// finite, and the exported folder opens again (planFolder via openHfFolder), loads in
// onnxruntime-web and gives the perplexity that was printed for the compressed model, and
// transformers.js (local files, scripts/gen/hf/transformersJs.ts) loads it — the packed q4 folder
// too — and greedily generates the ids the lab's own KV-cache loop generates from it.
import { copyFileSync, mkdirSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { openRunner } from '../core/calibrate/fixtures/models';
import { evaluate } from '../core/eval/evaluate';
import { generate } from '../core/eval/generate';
import { transformersJsGenerate } from '../../scripts/gen/hf/transformersJs';
import { openHfFolder } from '../core/hf/openFolder';
import { corpusText, diskEntries, generatedFolder } from '../core/hf/testing/generatedFolders';
import { splitText } from '../core/hf/textData';
import { writeModel } from '../core/onnx';
import { hfRunScratch, runLab } from './testing';

const { scratch, textPath, recipe } = hfRunScratch('lab-hfrun-');

interface Printed {
  perplexity: number;
  low: number;
  high: number;
  bitsPerByte: number;
}

function printed(stdout: string, label: 'dense' | 'compressed'): Printed {
  const match = new RegExp(`^${label}\\s+perplexity ([\\d.]+) \\[([\\d.]+), ([\\d.]+)\\] \\(95 % bootstrap over \\d+ windows\\), ([\\d.]+) bits per byte$`, 'm').exec(stdout);
  if (!match) throw new Error(`no "${label}" line in:\n${stdout}`);
  const [perplexity, low, high, bitsPerByte] = match.slice(1).map(Number);
  return { perplexity, low, high, bitsPerByte };
}

const PROMPT = 'In the beginning God created';

/**
 * The exported folder, opened as the page would open it, evaluated on the same windows as the run;
 * and its greedy continuation of PROMPT (KV cache, onnxruntime-web).
 */
async function exportedModel(out: string): Promise<{ perplexity: number; greedy: number[]; opened: Awaited<ReturnType<typeof openHfFolder>> }> {
  const opened = await openHfFolder(diskEntries(out));
  const tokenizer = opened.tokenizer!.tokenizer;
  const split = splitText(corpusText(), tokenizer, { seqLen: 32, calibShare: 0.5, seed: 0 });
  const runner = await openRunner(writeModel(opened.model));
  try {
    const metrics = await evaluate(runner, split.eval);
    if (metrics.task !== 'causal-lm') throw new Error('expected an LM');
    const { ids } = await generate(runner, { promptIds: tokenizer.encode(PROMPT), maxNewTokens: 6, contextLength: 128, strategy: { kind: 'greedy' } });
    return { perplexity: metrics.perplexity, greedy: ids, opened };
  } finally {
    await runner.release();
  }
}

describe('lab run on a Hugging Face export folder', () => {
  test('GPTQ 4-bit packed on the Llama-shaped folder with external data: block by block, figures printed, q4 folder exported', async () => {
    const out = join(scratch, 'llama-q4');
    const result = await runLab('run', recipe('gptq-4bit-g32.json'), generatedFolder('llama'), '--text', textPath, '--seq-len', '32', '--export-folder', out);
    expect(result.code, result.stderr).toBe(0);
    const text = result.stdout;
    expect(text).toMatch(/^folder .*model\.onnx \+ [\d,]+ bytes of external data, llama \(2 layers\)$/m);
    expect(text).toMatch(/^text\s+[\d,]+ tokens → \d+ windows of 33: 15 for calibration, \d+ for evaluation \(disjoint/m);
    expect(text).toMatch(/^calibration\s+8 samples, seed 0, sequential \(blockwise\)/m);
    expect(text).not.toContain('ran the whole model');
    const dense = printed(text, 'dense');
    const compressed = printed(text, 'compressed');
    for (const figures of [dense, compressed]) {
      for (const v of Object.values(figures)) expect(Number.isFinite(v)).toBe(true);
      expect(figures.low).toBeLessThanOrEqual(figures.perplexity);
      expect(figures.high).toBeGreaterThanOrEqual(figures.perplexity);
    }
    // Random weights over a 32000-token vocabulary: about as uncertain as a uniform guess.
    expect(dense.perplexity).toBeGreaterThan(32000 * 0.5);
    expect(dense.perplexity).toBeLessThan(32000 * 2);
    expect(text).toMatch(/^exported .*\(dtype q4\): onnx\/model_q4\.onnx, onnx\/model_q4\.onnx_data, config\.json, tokenizer\.json/m);

    const { perplexity, greedy, opened } = await exportedModel(out);
    expect(opened.plan.model.path).toBe('onnx/model_q4.onnx');
    expect(opened.externalDataBytes).toBeGreaterThan(0);
    expect(opened.plan.notes.join(' ')).toContain('model_q4.onnx is a reduced-precision or quantized graph');
    expect(opened.analysis.linears.filter((l) => l.nBits?.bits === 4)).toHaveLength(14);
    expect(opened.lmInputs.ok).toBe(true);
    expect(opened.disagreements).toEqual([]);
    expect((opened.config!.json as Record<string, unknown>)['transformers.js_config']).toEqual({ dtype: 'q4', use_external_data_format: true });
    // Printed with 2 decimals at this size.
    expect(Math.abs(perplexity - compressed.perplexity)).toBeLessThan(0.01);
    // transformers.js (local files only, onnxruntime-node) loads the packed q4 folder and generates
    // what the lab's own KV-cache loop generates from it.
    const tjs = await transformersJsGenerate(out, PROMPT, 6, { dtype: 'q4' });
    expect(tjs.newIds).toEqual(greedy.slice(0, tjs.newIds.length));
    expect(tjs.newIds.length).toBeGreaterThan(0);
    // `lab info` on the exported folder (transformers.js layout: the graph under onnx/).
    const info = await runLab('info', out);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toContain('MatMulNBits');
    expect(info.stdout).toMatch(/^inputs fed\s+input_ids: tokenIds; attention_mask: attentionMask; position_ids: positionIds; past_key_values\.0\.key: past/m);
  }, 240_000);

  test('SparseGPT 50 % on the GPT-2 folder: block by block, fp32 folder exported, generate prints dense and compressed text', async () => {
    const out = join(scratch, 'gpt2-sparse');
    const result = await runLab('run', recipe('sparsegpt-50.json'), generatedFolder('gpt2'), '--text', textPath, '--seq-len', '32', '--export-folder', out);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^calibration\s+8 samples, seed 0, sequential \(blockwise\)/m);
    expect(result.stdout).toMatch(/^sparsity\s+50\.\d\d% of the 8 changed layers/m);
    const compressed = printed(result.stdout, 'compressed');
    expect(Number.isFinite(compressed.bitsPerByte)).toBe(true);
    expect(readdirSync(join(out, 'onnx'))).toEqual(['model.onnx']);
    const { perplexity, greedy, opened } = await exportedModel(out);
    expect(opened.plan.model.path).toBe('onnx/model.onnx');
    expect(opened.externalDataBytes).toBe(0);
    expect(Math.abs(perplexity - compressed.perplexity)).toBeLessThan(0.01);
    const tjs = await transformersJsGenerate(out, PROMPT, 6, { dtype: 'fp32' });
    expect(tjs.newIds).toEqual(greedy.slice(0, tjs.newIds.length));
    expect(tjs.newIds.length).toBeGreaterThan(0);

    const generated = await runLab('generate', generatedFolder('gpt2'), '--prompt', PROMPT, '--max-new', '6', '--compressed', out);
    expect(generated.code, generated.stderr).toBe(0);
    expect(generated.stdout).toMatch(/^prompt .*\(\d+ tokens; greedy, 6 new tokens, with its KV cache\)$/m);
    expect(generated.stdout).toMatch(/^dense\s+".+"$/m);
    expect(generated.stdout).toMatch(/^compressed \(gpt2-sparse\)\s+".+"$/m);
    // The compressed text printed is the exported model's own greedy text (and transformers.js's).
    const text = JSON.stringify(opened.tokenizer!.tokenizer.decode(greedy));
    expect(generated.stdout).toContain(`${text}\n`);
  }, 240_000);

  test('bad folders and text: one line naming the file, exit 1', async () => {
    const broken = join(scratch, 'broken');
    mkdirSync(broken);
    const source = generatedFolder('llama');
    for (const name of readdirSync(source)) copyFileSync(join(source, name), join(broken, name));
    truncateSync(join(broken, 'model.onnx_data'), 1000);
    const noTokenizer = join(scratch, 'no-tokenizer');
    mkdirSync(noTokenizer);
    for (const name of readdirSync(source).filter((n) => !n.startsWith('tokenizer'))) copyFileSync(join(source, name), join(noTokenizer, name));
    const shortText = join(scratch, 'short.txt');
    writeFileSync(shortText, 'In the beginning.');
    const badJsonl = join(scratch, 'bad.jsonl');
    writeFileSync(badJsonl, '{"text": "In the beginning"}\n{"txt": "God created"}\n');
    const gptq = recipe('gptq-4bit-g32.json');
    const cases: [string[], RegExp][] = [
      [['run', gptq, broken, '--text', textPath], /^error: .*broken: model\.onnx: Tensor "[^"]+": bytes \d+\.\.\d+ are outside "model\.onnx_data" \(1000 bytes\)$/],
      [['run', gptq, noTokenizer, '--text', textPath], /^error: .*no-tokenizer: no tokenizer\.json: you can still compress the weights, but not evaluate on text or generate$/],
      [['run', gptq, source, '--text', shortText], /^error: the text gives \d+ tokens: at least 258 are needed/],
      [['run', gptq, source], /^error: run: --text FILE\.txt\|\.jsonl is required for a Hugging Face export folder/],
      [['run', gptq, source, '--text', badJsonl], /^error: .*bad\.jsonl: line 2: text: required, a string$/],
    ];
    for (const [args, message] of cases) {
      const result = await runLab(...args);
      expect(result.code).toBe(1);
      expect(result.stderr.split('\n')[0]).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  }, 120_000);
});
