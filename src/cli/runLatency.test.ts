// `lab run` times the dense and the compressed model after compressing (report.latency, printed,
// in --json) unless --no-latency; on the ViT, whose unit is one image.
import { describe, expect, test } from 'vitest';
import { runLab } from './testing';

describe('lab run latency', () => {
  test('measured latency in --json and in the text; --no-latency leaves it out', async () => {
    const json = await runLab('run', 'recipes/magnitude-50.json', 'public/models/digits-vit', '--json');
    expect(json.code).toBe(0);
    const { report } = JSON.parse(json.stdout);
    expect(report.latency).toMatchObject({ backend: 'wasm', seq: 1, unit: 'image', repeats: 20 });
    expect(report.latency.speedup).toBeCloseTo(report.latency.denseMs / report.latency.compressedMs, 12);
    expect(report.latency.predictedSpeedup).toBeUndefined();
    const text = await runLab('run', 'recipes/magnitude-50.json', 'public/models/digits-vit', '--no-latency', '-o', '/dev/null');
    expect(text.code).toBe(0);
    expect(text.stdout).not.toMatch(/^latency/m);
    const timed = await runLab('run', 'recipes/magnitude-50.json', 'public/models/digits-vit', '-o', '/dev/null');
    expect(timed.stdout).toMatch(/^latency {9}measured [\d.]+ ms\/image \(dense [\d.]+, ×[\d.]+\) on WASM \(median of 20 runs on one image, batch 1\)$/m);
  }, 120_000);
});
