// `lab run <recipe> <vit-folder> --images DIR` as users run it: a generated 2-block ViT folder
// (npm run gen:hf --preset vit-base, narrowed to 16-pixel images and 3 labels) and a folder of
// PNGs written here with sharp (already in node_modules with transformers.js), one subfolder per
// label, at another size than the model's so that the resize runs. Top-1 is printed dense and
// compressed with its interval; the dense figure is what transformers.js's own image pipeline
// predicts for the evaluation images.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { transformersJsClassifyImage } from '../../scripts/gen/hf/transformersJs';
import { mulberry32 } from '../core/calibrate/random';
import { runLab } from './testing';

const scratch = mkdtempSync(join(tmpdir(), 'lab-hfimg-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const folder = join(scratch, 'vit');
const images = join(scratch, 'images');
const LABELS = ['class_0', 'class_1', 'class_2'];
const PER_LABEL = 6;
const rgbOf = new Map<string, Uint8Array>();

beforeAll(async () => {
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/gen/hf/main.ts', '--preset', 'vit-base', '--blocks', '2', '--hidden', '64', '--heads', '4', '--intermediate', '128', '--image-size', '16', '--patch-size', '8', '--labels', '3', '--seed', '3', '--out', folder], { stdio: 'pipe' });
  let seed = 0;
  for (const label of LABELS) {
    mkdirSync(join(images, label), { recursive: true });
    for (let k = 0; k < PER_LABEL; k++) {
      const random = mulberry32(++seed);
      const rgb = Uint8Array.from({ length: 20 * 20 * 3 }, () => Math.floor(random() * 256));
      const path = join(images, label, `${k}.png`);
      writeFileSync(path, await sharp(rgb, { raw: { width: 20, height: 20, channels: 3 } }).png().toBuffer());
      rgbOf.set(`${label}/${k}.png`, rgb);
    }
  }
  const recipe = JSON.parse(readFileSync('recipes/wanda-50.json', 'utf8'));
  recipe.calibration.samples = 8;
  writeFileSync(join(scratch, 'wanda.json'), JSON.stringify(recipe));
}, 60_000);

interface Printed {
  metric: string;
  split: { calibImages: number[]; evalImages: number[] };
  dense: { value: number; low: number; high: number; samples: number };
  compressed: { value: number; low: number; high: number; samples: number };
  report: { totals: { sparsity: number }; calibration: { sequence: string } };
}

describe('lab run on a ViT folder with a labelled image folder', () => {
  test("Wanda 50 %: top-1 dense and compressed; the dense top-1 is transformers.js's on the evaluation images", async () => {
    const result = await runLab('run', join(scratch, 'wanda.json'), folder, '--images', images, '--json');
    expect(result.code, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout) as Printed;
    expect(printed.metric).toBe('top-1');
    expect(printed.split.calibImages.filter((i) => printed.split.evalImages.includes(i))).toEqual([]);
    expect(printed.split.calibImages.length + printed.split.evalImages.length).toBe(LABELS.length * PER_LABEL);
    expect(printed.dense.samples).toBe(printed.split.evalImages.length);
    expect(printed.compressed.samples).toBe(printed.split.evalImages.length);
    // The files in the order the CLI reads them (labels sorted, then names), label = folder.
    const files = LABELS.flatMap((label) => Array.from({ length: PER_LABEL }, (_, k) => ({ key: `${label}/${k}.png`, label: LABELS.indexOf(label) })));
    let hits = 0;
    for (const i of printed.split.evalImages) {
      const { logits } = await transformersJsClassifyImage(folder, Uint8ClampedArray.from(rgbOf.get(files[i].key)!), 20, 20);
      const predicted = logits.indexOf(Math.max(...logits));
      if (predicted === files[i].label) hits++;
    }
    expect(printed.dense.value).toBe(hits / printed.split.evalImages.length);
    expect(printed.dense.low).toBeLessThanOrEqual(printed.dense.value);
    expect(printed.dense.high).toBeGreaterThanOrEqual(printed.dense.value);
  }, 180_000);

  test('a subfolder whose name is not a label is one line naming it', async () => {
    const bad = join(scratch, 'bad-images');
    mkdirSync(join(bad, 'cat'), { recursive: true });
    writeFileSync(join(bad, 'cat', 'a.png'), readFileSync(join(images, 'class_0', '0.png')));
    const result = await runLab('run', join(scratch, 'wanda.json'), folder, '--images', bad);
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(/cat\/a\.png: folder "cat" is not a label of .*config\.json's id2label \(class_0, class_1, class_2\)$/);
  }, 60_000);
});
