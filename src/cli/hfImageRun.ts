// `lab run <recipe> <vit-folder> --images DIR`: top-1 of a ViT export folder on a folder of
// labelled images (one subfolder per label, named as config.json's id2label names it), dense and
// compressed, each with a 95 % bootstrap interval over images; calibration on a disjoint share of
// the images (per label). Images are decoded and resized by transformers.js's RawImage (sharp in
// Node), as transformers.js's ViTImageProcessor does before it rescales and normalises; the pixel
// arithmetic is src/core/hf/imageData.ts.
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { metricInterval, type MetricInterval } from '../core/eval/bootstrap';
import type { ImageDataset } from '../core/eval/datasets';
import { evaluateWithSamples } from '../core/eval/evaluate';
import type { BackendPreference } from '../core/eval/runner';
import { IMAGE_FILE, labelIds, labelImages, pixelValues, readImagePreprocess, splitImages, type ImagePreprocess, type LabelledImage } from '../core/hf/imageData';
import type { Progress } from '../core/job';
import { writeModel } from '../core/onnx';
import { createRunner } from '../runtime/ort';
import { showPath } from './files';
import { openFolderOnDisk } from './hfFolder';
import { compressOnDisk, printReport, readRecipeFile } from './run';

export interface ImageRunOptions {
  recipePath: string;
  imagesPath: string;
  calibShare: number;
  backend: BackendPreference;
  json: boolean;
}

/** Every PNG/JPEG under `dir`, labelled by the folder that holds it. */
export function labelledImageFiles(dir: string): LabelledImage[] {
  const found: LabelledImage[] = [];
  const walk = (at: string) => {
    for (const name of readdirSync(at).sort()) {
      const full = join(at, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (IMAGE_FILE.test(name) && at !== dir) found.push({ path: relative(dir, full).split('\\').join('/'), label: at.split(/[\\/]/).at(-1)! });
    }
  };
  walk(dir);
  if (found.length === 0) throw new Error(`${showPath(dir)}: no .png or .jpg image in a subfolder (one subfolder per label, named as config.json's id2label)`);
  return found;
}

async function decodeImage(path: string, pre: ImagePreprocess): Promise<Float32Array> {
  const { RawImage } = await import('@huggingface/transformers');
  let image = (await RawImage.read(path)).rgb();
  if (pre.doResize && (image.width !== pre.width || image.height !== pre.height)) image = await image.resize(pre.width, pre.height, { resample: pre.resample as 2 });
  if (image.width !== pre.width || image.height !== pre.height) throw new Error(`${showPath(path)}: ${image.width}×${image.height}, but preprocessor_config.json says do_resize false and size ${pre.width}×${pre.height}`);
  return pixelValues(image.data, 3, pre);
}

async function top1(bytes: Uint8Array, set: ImageDataset, backend: BackendPreference, seed: number): Promise<MetricInterval> {
  const { runner } = await createRunner(bytes, { backend, numThreads: 1 });
  try {
    return metricInterval((await evaluateWithSamples(runner, set)).samples, { seed, metric: 'top1' });
  } finally {
    await runner.release();
  }
}

const pct = (v: number) => `${(100 * v).toFixed(2)} %`;
const line = (label: string, m: MetricInterval) => `${label.padEnd(16)}top-1 ${pct(m.value)} [${pct(m.low)}, ${pct(m.high)}] (95 % bootstrap over ${m.samples} images)`;

export async function hfImageRunCommand(folderArg: string, options: ImageRunOptions): Promise<void> {
  const folder = resolve(folderArg);
  const recipe = readRecipeFile(resolve(options.recipePath));
  const opened = await openFolderOnDisk(folder);
  if (opened.config?.config.family !== 'vit') throw new Error(`${showPath(join(folder, 'config.json'))}: model_type: --images needs a ViT folder, got ${opened.config?.config.modelType ?? 'no config.json'}`);
  const preFile = opened.copied.find((f) => f.path.endsWith('preprocessor_config.json'));
  if (!preFile) throw new Error(`${showPath(folder)}: no preprocessor_config.json: the image size, mean and std are unknown`);
  const pre = readImagePreprocess(JSON.parse(new TextDecoder().decode(preFile.bytes)), showPath(join(folder, preFile.path)));
  const imagesDir = resolve(options.imagesPath);
  const files = labelledImageFiles(imagesDir);
  const classIds = labelImages(files.map((f) => ({ ...f, path: showPath(join(imagesDir, f.path)) })), labelIds(opened.config.json, showPath(join(folder, 'config.json'))));
  const values = await Promise.all(files.map((f) => decodeImage(join(imagesDir, f.path), pre)));
  const split = splitImages(values, classIds, pre, { calibShare: options.calibShare, seed: recipe.seed });
  const log = (text: string) => (options.json ? console.error(text) : console.log(text));
  log(`folder          ${showPath(folder)}: ${opened.plan.model.path}, vit (image classification, ${pre.width}×${pre.height})`);
  log(`images          ${files.length} in ${new Set(classIds).size} labels: ${split.calibImages.length} for calibration, ${split.evalImages.length} for evaluation (disjoint, split per label)`);
  const denseBytes = writeModel(opened.model);
  const onDisk = { onnxPath: join(folder, opened.plan.model.path), bytes: denseBytes, model: opened.model };
  const outcome = await compressOnDisk(onDisk, recipe, split.calib, options.backend, (p: Progress) => {
    if (!options.json && p.done === p.total && p.phase !== 'report') console.error(`  ${p.phase}: ${p.label} (${p.total})`);
  });
  const dense = await top1(denseBytes, split.eval, options.backend, recipe.seed);
  const compressed = await top1(outcome.bytes, split.eval, options.backend, recipe.seed);
  if (options.json) {
    console.log(JSON.stringify({ folder, model: opened.plan.model.path, metric: 'top-1', split: { calibImages: split.calibImages, evalImages: split.evalImages }, dense, compressed, report: outcome.report }, null, 2));
    return;
  }
  printReport(outcome.report, null);
  console.log('');
  console.log(line('dense', dense));
  console.log(line('compressed', compressed));
}
