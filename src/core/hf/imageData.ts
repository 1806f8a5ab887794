// A ViT folder's images: preprocessor_config.json read as transformers.js's ViTImageProcessor reads
// it (src/models/image_processors, ImageProcessor.preprocess: resize to `size`, then
// rescale by rescale_factor (1/255), then normalise (x − image_mean) / image_std, channels first),
// and a dropped folder of labelled images (one subfolder per label, named as config.json's
// id2label / label2id name it) turned into the lab's image set.
//
// Decoding and resizing are the platform's (the browser's createImageBitmap + OffscreenCanvas in
// the worker, which is also what transformers.js's RawImage.resize does in a browser; sharp, through
// transformers.js's RawImage, in Node): the pixels arrive here already at `size`, as RGB or RGBA bytes.
import { chooseSamples } from '../calibrate/random.ts';
import type { ImageDataset } from '../eval/datasets.ts';
import { describeValue, isJsonObject } from '../recipe/reader.ts';

export class ImageDataError extends Error {
  override name = 'ImageDataError';
}

export interface ImagePreprocess {
  width: number;
  height: number;
  doResize: boolean;
  /** 0 when do_rescale is false. */
  rescale: number;
  mean: number[];
  std: number[];
  /** transformers' PILImageResampling code (2 = bilinear). */
  resample: number;
}

const numbers = (value: unknown, length: number): value is number[] => Array.isArray(value) && value.length === length && value.every((x) => typeof x === 'number' && Number.isFinite(x));

/** preprocessor_config.json → the preprocessing; a bad field is one line naming the file and the field. */
export function readImagePreprocess(json: unknown, file = 'preprocessor_config.json', channels = 3): ImagePreprocess {
  if (!isJsonObject(json)) throw new ImageDataError(`${file}: must be a JSON object, got ${describeValue(json)}`);
  const size = json.size;
  let width: unknown;
  let height: unknown;
  if (typeof size === 'number') width = height = size;
  else if (isJsonObject(size)) [width, height] = typeof size.shortest_edge === 'number' && size.height === undefined ? [size.shortest_edge, size.shortest_edge] : [size.width, size.height];
  if (!Number.isInteger(width) || !Number.isInteger(height) || (width as number) < 1 || (height as number) < 1) throw new ImageDataError(`${file}: size: required, {"height": H, "width": W} in pixels, got ${describeValue(size)}`);
  const doRescale = json.do_rescale !== false;
  const factor = json.rescale_factor ?? 1 / 255;
  if (doRescale && (typeof factor !== 'number' || !(factor > 0))) throw new ImageDataError(`${file}: rescale_factor: must be a positive number, got ${describeValue(factor)}`);
  const doNormalize = json.do_normalize !== false;
  const spread = (value: unknown, field: string, fallback: number) => {
    if (!doNormalize) return Array(channels).fill(fallback) as number[];
    const v = typeof value === 'number' ? Array(channels).fill(value) : value;
    if (!numbers(v, channels)) throw new ImageDataError(`${file}: ${field}: must be ${channels} numbers (one per channel), got ${describeValue(value)}`);
    return v;
  };
  const mean = spread(json.image_mean, 'image_mean', 0);
  const std = spread(json.image_std, 'image_std', 1);
  if (std.some((s) => s === 0)) throw new ImageDataError(`${file}: image_std: must not hold 0`);
  return { width: width as number, height: height as number, doResize: json.do_resize !== false, rescale: doRescale ? (factor as number) : 0, mean, std, resample: typeof json.resample === 'number' ? json.resample : 2 };
}

/**
 * The model's pixel_values for one image at the preprocessing size: `pixels` holds `stride` bytes
 * per pixel (3 RGB, 4 RGBA: alpha dropped, as RawImage.rgb() drops it), row-major; the result is
 * channels first [3, height, width].
 */
export function pixelValues(pixels: ArrayLike<number>, stride: 3 | 4, pre: ImagePreprocess): Float32Array {
  const n = pre.width * pre.height;
  if (pixels.length !== n * stride) throw new ImageDataError(`image: ${pixels.length} bytes, but ${pre.width}×${pre.height} at ${stride} bytes per pixel is ${n * stride}`);
  const out = new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) {
      // Float32 steps as transformers.js takes them: rescale, then normalise, each rounded to float32.
      const scaled = pre.rescale > 0 ? Math.fround(pixels[i * stride + c] * pre.rescale) : pixels[i * stride + c];
      out[c * n + i] = Math.fround((scaled - pre.mean[c]) / pre.std[c]);
    }
  }
  return out;
}

/** config.json's labels: name → class id, from label2id, else id2label. */
export function labelIds(config: unknown, file = 'config.json'): Map<string, number> {
  const labels = new Map<string, number>();
  const json = isJsonObject(config) ? config : {};
  if (isJsonObject(json.label2id)) {
    for (const [name, id] of Object.entries(json.label2id)) if (Number.isInteger(id)) labels.set(name, id as number);
  } else if (isJsonObject(json.id2label)) {
    for (const [id, name] of Object.entries(json.id2label)) if (typeof name === 'string' && Number.isInteger(Number(id))) labels.set(name, Number(id));
  }
  if (labels.size === 0) throw new ImageDataError(`${file}: id2label: required to read a labelled image folder (folder name = label)`);
  return labels;
}

export interface LabelledImage {
  /** The image's path in the dropped folder, e.g. images/cat/001.png. */
  path: string;
  /** Its subfolder's name: the label. */
  label: string;
}

/** The class id of each image from its subfolder's name; an unknown name is one line naming it and the labels that exist. */
export function labelImages(images: readonly LabelledImage[], labels: Map<string, number>, file = 'config.json'): number[] {
  return images.map((image) => {
    const id = labels.get(image.label);
    if (id === undefined) {
      const known = [...labels.keys()];
      throw new ImageDataError(`${image.path}: folder "${image.label}" is not a label of ${file}'s id2label (${known.slice(0, 8).join(', ')}${known.length > 8 ? `, … ${known.length} in all` : ''})`);
    }
    return id;
  });
}

/** The subfolder (label) of a path of a dropped image folder: the folder holding the file. */
export function labelFromPath(path: string): string | undefined {
  const parts = path.split('/').filter((p) => p !== '');
  return parts.length >= 2 ? parts[parts.length - 2] : undefined;
}

export const IMAGE_FILE = /\.(png|jpe?g)$/i;

export interface ImageSplit {
  calib: ImageDataset;
  eval: ImageDataset;
  calibImages: number[];
  evalImages: number[];
}

/**
 * Preprocessed images dealt to calibration and evaluation by a seeded shuffle within each label
 * (so both sets see every label that has two images or more): disjoint, every image used once.
 */
export function splitImages(values: readonly Float32Array[], classIds: readonly number[], pre: ImagePreprocess, options: { calibShare?: number; seed?: number } = {}): ImageSplit {
  const { calibShare = 0.5, seed = 0 } = options;
  if (values.length < 2) throw new ImageDataError(`images: ${values.length} image(s): at least 2 are needed, one to calibrate and one to evaluate`);
  const byLabel = new Map<number, number[]>();
  classIds.forEach((id, i) => byLabel.set(id, [...(byLabel.get(id) ?? []), i]));
  const calibImages: number[] = [];
  const evalImages: number[] = [];
  for (const [label, members] of [...byLabel].sort((a, b) => a[0] - b[0])) {
    const order = chooseSamples(members.length, members.length, seed + label).map((k) => members[k]);
    const calibCount = members.length < 2 ? 0 : Math.min(members.length - 1, Math.max(1, Math.round(members.length * calibShare)));
    calibImages.push(...order.slice(0, calibCount));
    evalImages.push(...order.slice(calibCount));
  }
  if (calibImages.length === 0) throw new ImageDataError('images: every label has one image: at least one label needs two, one to calibrate and one to evaluate');
  calibImages.sort((a, b) => a - b);
  evalImages.sort((a, b) => a - b);
  const set = (indices: number[]): ImageDataset => ({ kind: 'image-classification', shape: [3, pre.height, pre.width], preprocess: { divide: 1 }, images: indices.map((i) => Array.from(values[i])), labels: indices.map((i) => classIds[i]) });
  return { calib: set(calibImages), eval: set(evalImages), calibImages, evalImages };
}
