// Resolves a CLI model argument (a bundled model folder or an .onnx file) into bytes, card and
// evaluation set, from the filesystem.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseModelCard, type ModelCard } from '../core/catalog/modelCard';
import { parseDataset, type Dataset } from '../core/eval/datasets';

export interface ModelOnDisk {
  onnxPath: string;
  bytes: Uint8Array;
  card?: ModelCard;
  dataset?: Dataset;
  datasetPath?: string;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

export function loadModelFromDisk(target: string, datasetOverride?: string): ModelOnDisk {
  const full = resolve(target);
  if (!existsSync(full)) throw new Error(`No such file or folder: ${target}`);
  const isDir = statSync(full).isDirectory();
  const dir = isDir ? full : dirname(full);
  const cardPath = join(dir, 'model.json');
  const card = existsSync(cardPath) ? parseModelCard(readJson(cardPath), cardPath) : undefined;
  const onnxPath = isDir ? join(dir, card?.files.model ?? 'model.onnx') : full;
  if (!existsSync(onnxPath)) throw new Error(`No ONNX model at ${onnxPath}`);
  const datasetPath = datasetOverride ? resolve(datasetOverride) : card ? join(dir, card.files.eval) : undefined;
  const dataset = datasetPath ? parseDataset(readJson(datasetPath), datasetPath) : undefined;
  return { onnxPath, bytes: new Uint8Array(readFileSync(onnxPath)), card, dataset, datasetPath };
}
