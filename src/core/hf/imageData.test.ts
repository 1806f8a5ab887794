// A ViT folder's preprocessing against transformers.js's own ViTImageProcessor (the library the
// exported folders target), on a generated 2-block ViT (npm run gen:hf --preset vit-base, narrowed):
// the pixel values agree within 1e-5 (images at the processor's size, and larger ones resized by
// transformers.js's RawImage, i.e. sharp in Node); the logits onnxruntime-web computes from them
// equal transformers.js's; and top-1 on a labelled image set comes with its window-bootstrap interval.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawImage } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { transformersJsClassifyImage } from '../../../scripts/gen/hf/transformersJs.ts';
import { mulberry32 } from '../calibrate/random.ts';
import { openRunner } from '../calibrate/fixtures/models.ts';
import { metricInterval } from '../eval/bootstrap.ts';
import { evaluateWithSamples } from '../eval/evaluate.ts';
import { writeModel } from '../onnx/write.ts';
import { expectClose } from '../testing/expectClose.ts';
import { labelIds, labelImages, pixelValues, readImagePreprocess, splitImages } from './imageData.ts';
import { openHfFolder } from './openFolder.ts';
import { diskEntries } from './testing/generatedFolders.ts';

const scratch = mkdtempSync(join(tmpdir(), 'lab-vit-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const folder = join(scratch, 'vit');
const SIZE = 16;

beforeAll(() => {
  execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../../scripts/gen/hf/main.ts'), '--preset', 'vit-base', '--blocks', '2', '--hidden', '64', '--heads', '4', '--intermediate', '128', '--image-size', String(SIZE), '--patch-size', '8', '--labels', '3', '--seed', '3', '--out', folder], { stdio: 'pipe' });
}, 60_000);

function randomRgb(width: number, height: number, seed: number): Uint8ClampedArray {
  const random = mulberry32(seed);
  return Uint8ClampedArray.from({ length: width * height * 3 }, () => Math.floor(random() * 256));
}

const preprocess = () => readImagePreprocess(JSON.parse(readFileSync(join(folder, 'preprocessor_config.json'), 'utf8')));

describe("ViT preprocessing against transformers.js's ViTImageProcessor", () => {
  test('images at the processor size: the same pixel values (1e-5) and, through onnxruntime-web, the same logits', async () => {
    const pre = preprocess();
    expect(pre).toMatchObject({ width: SIZE, height: SIZE, rescale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    const opened = await openHfFolder(diskEntries(folder));
    const runner = await openRunner(writeModel(opened.model));
    for (const seed of [1, 2, 3]) {
      const rgb = randomRgb(SIZE, SIZE, seed);
      const ref = await transformersJsClassifyImage(folder, rgb, SIZE, SIZE);
      const ours = pixelValues(rgb, 3, pre);
      expectClose(Array.from(ours), Array.from(ref.pixelValues), { atol: 1e-5, rtol: 0 }, `pixel values, image ${seed}`);
      const out = await runner.run({ pixel_values: { dtype: 'float32', dims: [1, 3, SIZE, SIZE], data: ours } });
      expectClose(Array.from(out.logits.data as Float32Array), Array.from(ref.logits), { atol: 1e-4, rtol: 1e-4 }, `logits, image ${seed}`);
    }
    await runner.release();
  }, 120_000);

  test('a larger RGBA image, resized by RawImage as transformers.js resizes it: the same pixel values', async () => {
    const pre = preprocess();
    const rgb = randomRgb(23, 19, 7);
    const ref = await transformersJsClassifyImage(folder, rgb, 23, 19);
    const resized = await new RawImage(rgb, 23, 19, 3).resize(SIZE, SIZE, { resample: pre.resample as 2 });
    const rgba = new Uint8ClampedArray(SIZE * SIZE * 4);
    for (let i = 0; i < SIZE * SIZE; i++) rgba.set([...resized.data.slice(i * 3, i * 3 + 3), 255], i * 4);
    expectClose(Array.from(pixelValues(rgba, 4, pre)), Array.from(ref.pixelValues), { atol: 1e-5, rtol: 0 }, 'pixel values after resize');
  }, 60_000);
});

describe('a labelled image folder', () => {
  test("folder names are config.json's labels; an unknown one is one line naming it", () => {
    const labels = labelIds(JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')));
    expect([...labels]).toEqual([['class_0', 0], ['class_1', 1], ['class_2', 2]]);
    expect(labelImages([{ path: 'imgs/class_2/a.png', label: 'class_2' }], labels)).toEqual([2]);
    expect(() => labelImages([{ path: 'imgs/cat/a.png', label: 'cat' }], labels)).toThrow(/^imgs\/cat\/a\.png: folder "cat" is not a label of config\.json's id2label \(class_0, class_1, class_2\)$/);
    expect(() => readImagePreprocess({ size: { height: 16 } })).toThrow(/^preprocessor_config\.json: size: required/);
    expect(() => readImagePreprocess({ size: 16, image_mean: [0.5] })).toThrow(/^preprocessor_config\.json: image_mean: must be 3 numbers/);
  });

  test('split per label, disjoint; top-1 through evaluate with its bootstrap interval', async () => {
    const pre = preprocess();
    const classIds = Array.from({ length: 12 }, (_, i) => i % 3);
    const values = classIds.map((_, i) => pixelValues(randomRgb(SIZE, SIZE, 100 + i), 3, pre));
    const split = splitImages(values, classIds, pre, { seed: 0 });
    expect([...split.calibImages, ...split.evalImages].sort((a, b) => a - b)).toEqual(classIds.map((_, i) => i));
    expect(split.calibImages.filter((i) => split.evalImages.includes(i))).toEqual([]);
    expect(new Set(split.calib.labels)).toEqual(new Set([0, 1, 2]));
    const opened = await openHfFolder(diskEntries(folder));
    const runner = await openRunner(writeModel(opened.model));
    const { metrics, samples } = await evaluateWithSamples(runner, split.eval);
    await runner.release();
    if (metrics.task !== 'image-classification') throw new Error('expected a classifier evaluation');
    const top1 = metricInterval(samples);
    expect(top1.metric).toBe('top1');
    expectClose([top1.value], [metrics.top1], { rtol: 1e-12, atol: 0 }, 'top-1');
    expect(top1.low).toBeLessThanOrEqual(top1.value);
    expect(top1.high).toBeGreaterThanOrEqual(top1.value);
    expect(top1.samples).toBe(split.evalImages.length);
  }, 60_000);
});
