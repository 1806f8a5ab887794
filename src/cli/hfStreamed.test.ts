// `lab run … --streamed` against `lab run … --whole` on the generated 2-block Llama-shaped folder
// (weights in model.onnx_data, npm run gen:hf): Wanda 50 % and GPTQ 4-bit packed give exported
// folders whose every tensor holds the same bytes, the streamed folder reopens with openHfFolder
// and evaluates (onnxruntime-web) to the perplexity the run printed, the JSON says which path ran
// and its peak RSS, and a recipe the block walk cannot run (OWL allocation) is refused in one line
// under --streamed, and runs whole by default with the reason printed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { lmPerplexity } from '../core/calibrate/fixtures/models';
import { openHfFolder } from '../core/hf/openFolder';
import { corpusText, diskEntries, generatedFolder } from '../core/hf/testing/generatedFolders';
import { splitText } from '../core/hf/textData';
import { writeModel } from '../core/onnx';
import type { TensorProto } from '../core/onnx/types';
import { hfRunScratch, runLab } from './testing';

const { scratch, textPath, recipe } = hfRunScratch('lab-hfstreamed-');

interface RunJson {
  path: 'streamed' | 'whole';
  pathReason: string;
  peakRssBytes: number;
  compressed: { perplexity: { value: number } } | null;
  exported: { dtype: string; files: string[] } | null;
}

async function run(recipeName: string, flag: '--streamed' | '--whole'): Promise<{ out: string; json: RunJson }> {
  const out = join(scratch, `${recipeName}${flag}`);
  const result = await runLab('run', recipe(recipeName), generatedFolder('llama'), '--text', textPath, '--seq-len', '32', '--export-folder', out, flag, '--json');
  expect(result.code, result.stderr).toBe(0);
  return { out, json: JSON.parse(result.stdout) as RunJson };
}

const tensorBytes = (t: TensorProto): Uint8Array => t.rawData ?? new Uint8Array(new Float32Array(t.floatData ?? []).buffer);

/** Every initializer of the exported folder's graph, by name, with its bytes (external data resolved). */
async function exportedWeights(out: string): Promise<Map<string, Uint8Array>> {
  const opened = await openHfFolder(diskEntries(out));
  return new Map((opened.model.graph?.initializer ?? []).map((t) => [t.name ?? '', tensorBytes(t)]));
}

async function exportedPerplexity(out: string): Promise<number> {
  const opened = await openHfFolder(diskEntries(out));
  const split = splitText(corpusText(), opened.tokenizer!.tokenizer, { seqLen: 32, calibShare: 0.5, seed: 0 });
  return lmPerplexity(writeModel(opened.model), split.eval);
}

describe('lab run --streamed on a Hugging Face folder with external data', () => {
  for (const [name, dtype] of [
    ['wanda-50.json', 'fp32'],
    ['gptq-4bit-g32.json', 'q4'],
  ] as const) {
    test(`${name}: the streamed export holds the whole path's weights and evaluates to the printed perplexity`, async () => {
      const streamed = await run(name, '--streamed');
      const whole = await run(name, '--whole');
      expect(streamed.json.path).toBe('streamed');
      expect(whole.json.path).toBe('whole');
      for (const { json } of [streamed, whole]) expect(json.peakRssBytes).toBeGreaterThan(0);
      expect(streamed.json.exported?.dtype).toBe(dtype);
      const suffix = dtype === 'q4' ? '_q4' : '';
      expect(streamed.json.exported?.files.slice(0, 2)).toEqual([`onnx/model${suffix}.onnx`, `onnx/model${suffix}.onnx_data`]);

      const a = await exportedWeights(streamed.out);
      const b = await exportedWeights(whole.out);
      expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
      for (const [tensor, bytes] of a) expect(Buffer.from(bytes).equals(Buffer.from(b.get(tensor)!)), tensor).toBe(true);

      const config = JSON.parse(readFileSync(join(streamed.out, 'config.json'), 'utf8'));
      expect(config['transformers.js_config']).toEqual({ dtype, use_external_data_format: true });
      expect(readFileSync(join(streamed.out, 'tokenizer.json'))).toEqual(readFileSync(join(generatedFolder('llama'), 'tokenizer.json')));
      const printed = streamed.json.compressed!.perplexity.value;
      expect(Math.abs((await exportedPerplexity(streamed.out)) - printed)).toBeLessThan(1e-6 * printed);
      expect(Math.abs(whole.json.compressed!.perplexity.value - printed)).toBeLessThan(1e-6 * printed);
    }, 240_000);
  }

  test('OWL allocation: refused in one line under --streamed; by default the whole path runs and says why', async () => {
    const refused = await runLab('run', recipe('wanda-owl-4of8.json'), generatedFolder('llama'), '--text', textPath, '--seq-len', '32', '--streamed');
    expect(refused.code).not.toBe(0);
    const message = refused.stderr.trim().split('\n').filter((l) => l.includes('wanda-owl-4of8.json'));
    expect(message).toHaveLength(1);
    expect(message[0]).toMatch(/wanda-owl-4of8\.json: stages\[0\]: allocation "owl" reads every layer's weight before the walk/);

    const fallback = await runLab('run', recipe('wanda-owl-4of8.json'), generatedFolder('llama'), '--text', textPath, '--seq-len', '32');
    expect(fallback.code, fallback.stderr).toBe(0);
    expect(fallback.stdout).toMatch(/^path\s+whole model in memory \(the recipe cannot stream: stages\[0\]: allocation "owl"/m);
    expect(fallback.stdout).toMatch(/^peak memory\s+\d+ MB resident \(process high-water mark, whole path\)$/m);
  }, 240_000);
});
