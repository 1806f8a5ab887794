// The command line: a seed gives byte-identical folders; bad flags are one line naming the flag,
// with exit status 1 and nothing written.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'gen-hf-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const main = new URL('./main.ts', import.meta.url).pathname;

async function genHf(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', main, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const TINY = ['--preset', 'smollm-135m', '--blocks', '2', '--hidden', '48', '--heads', '6', '--kv-heads', '2', '--intermediate', '64', '--vocab', '300'];

describe('npm run gen:hf', () => {
  test('the same seed writes byte-identical graphs; another seed does not', async () => {
    const runs = await Promise.all(['a', 'b', 'c'].map((name, i) => genHf(...TINY, '--seed', i < 2 ? '5' : '6', '--layout', 'flat', '--out', join(root, name))));
    for (const run of runs) expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(runs[0].stdout).toMatch(/smollm-135m, 2 blocks, 0\.\d\d M parameters; .*model\.onnx .* MB; .* s, peak RSS .* MB/);
    const graph = (name: string) => readFileSync(join(root, name, 'model.onnx'));
    expect(graph('a').equals(graph('b'))).toBe(true);
    expect(graph('a').equals(graph('c'))).toBe(false);
  });

  test.each([
    ['an unknown preset', ['--preset', 'llama-7b', '--out', 'x'], '--preset must be one of gpt2, smollm-135m, qwen2.5-0.5b, tinyllama-1.1b, bert-base, vit-base, got llama-7b'],
    ['a width the heads do not divide', [...TINY, '--heads', '5', '--out', 'x'], '--hidden 48 is not a multiple of --heads 5'],
    ['heads the key-value heads do not divide', [...TINY, '--kv-heads', '4', '--out', 'x'], '--heads 6 is not a multiple of --kv-heads 4'],
    ['a vocabulary too small for the byte tokens', [...TINY, '--vocab', '100', '--out', 'x'], '--vocab 100 is below 257: the byte-level tokenizer needs 256 byte tokens and an end-of-text token'],
    ['zero blocks', [...TINY, '--blocks', '0', '--out', 'x'], '--blocks expects a positive integer, got 0'],
    ['--fused on ViT', ['--preset', 'vit-base', '--fused', '--out', 'x'], '--fused is written for the decoders and bert-base, not vit-base'],
  ] as [string, string[], string][])('%s is refused in one line', async (_, args, message) => {
    const out = join(root, `refused-${message.length}`);
    const run = await genHf(...args.map((a) => (a === 'x' ? out : a)));
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(message);
    expect(existsSync(out)).toBe(false);
  });
});
