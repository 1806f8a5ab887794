// `lab info` says whether a model is already compressed: the bundled ViT is dense; the file
// `lab run` writes from it is recognised as pruned, with its pattern per layer and the recipe
// and source model its metadata_props name.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';

const exec = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), 'lab-info-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function lab(...args: string[]): Promise<string> {
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', 'scripts/lab.ts', ...args], { encoding: 'utf8', maxBuffer: 16 << 20 });
  return stdout;
}

const compressionLine = (stdout: string) => stdout.split('\n').find((line) => line.startsWith('  compression   '));

describe('lab info', () => {
  test('prints the compression verdict: dense for the bundled ViT, pruned 2:4 for what lab run made of it', async () => {
    expect(compressionLine(await lab('info', 'public/models/digits-vit'))).toBe('  compression   dense: 0.0 % of prunable linear weights are zero (24 layers)');
    const recipe = join(scratch, 'magnitude-2of4.json');
    writeFileSync(recipe, JSON.stringify({ version: 2, stages: [{ kind: 'prune', method: 'magnitude', pattern: '2:4' }] }));
    const pruned = join(scratch, 'digits-vit.magnitude-2of4.onnx');
    await lab('run', recipe, 'public/models/digits-vit', '-o', pruned);
    const stdout = await lab('info', pruned);
    expect(compressionLine(stdout)).toBe(
      '  compression   pruned: 50.0 % of prunable linear weights are zero (2:4 in 24 of 24 layers); made by the lab on digits-vit: magnitude (layer), 2:4, 50.0% target, uniform allocation, no calibration',
    );
    // Per layer: the block linears 50 % in 2:4, the embedding and head untouched.
    expect(stdout).toMatch(/^0\s+blocks\.0\.attn\.q_proj\s.*\s50\.0 % 2:4$/m);
    expect(stdout).toMatch(/^-\s+head\s.*\s0\.0 %$/m);
    const json = JSON.parse(await lab('info', pruned, '--json'));
    expect(json.analysis.compression).toMatchObject({ verdict: 'sparse', zeroShare: 0.5, labMetadata: { sourceModel: 'digits-vit' } });
  }, 120_000);
});
