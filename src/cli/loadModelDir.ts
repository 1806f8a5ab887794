// Resolves a CLI model argument (a bundled model folder or an .onnx file) into bytes, card and
// evaluation set, from the filesystem. Paths inside the folder come from model.json and from
// the model's external_data; both are checked to stay inside the folder before anything is
// opened (parseModelCard, externalDataRefs), and every file read must be a regular file.
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseModelCard, type ModelCard } from '../core/catalog/modelCard';
import { parseDataset, type Dataset } from '../core/eval/datasets';
import { externalDataRefs, readModel, resolveExternalData, writeModel, type ModelProto } from '../core/onnx';
import { MAX_MODEL_BYTES, readJsonFile, readRegularFile, showPath } from './files';

export interface ModelOnDisk {
  onnxPath: string;
  /** The model file, or the model re-encoded with its external data inlined. */
  bytes: Uint8Array;
  model: ModelProto;
  card?: ModelCard;
  dataset?: Dataset;
  datasetPath?: string;
}

/** The folder a model argument stands for: itself, or the folder of an .onnx file. */
export function modelFolder(target: string): string {
  const full = resolve(target);
  return statSync(full).isDirectory() ? full : dirname(full);
}

/** Reads each external data file (inside the folder) and inlines it; the model is self-contained after. */
function inlineExternalData(model: ModelProto, folder: string): boolean {
  const refs = externalDataRefs(model); // refuses absolute and climbing locations, opens nothing
  if (refs.length === 0) return false;
  const files = new Map<string, Uint8Array>();
  for (const { location } of refs) {
    if (!files.has(location)) files.set(location, readRegularFile(join(folder, location), 'an external data file', MAX_MODEL_BYTES));
  }
  resolveExternalData(model, files);
  return true;
}

export function loadModelFromDisk(target: string, datasetOverride?: string): ModelOnDisk {
  const full = resolve(target);
  if (!existsSync(full)) throw new Error(`No such file or folder: ${showPath(target)}`);
  const isDir = statSync(full).isDirectory();
  const dir = isDir ? full : dirname(full);
  const cardPath = join(dir, 'model.json');
  const card = existsSync(cardPath) ? parseModelCard(readJsonFile(cardPath, 'a model card'), showPath(cardPath)) : undefined;
  const onnxPath = isDir ? join(dir, card?.files.model ?? 'model.onnx') : full;
  let bytes = readRegularFile(onnxPath, 'an ONNX model', MAX_MODEL_BYTES);
  const datasetPath = datasetOverride ? resolve(datasetOverride) : card ? join(dir, card.files.eval) : undefined;
  const dataset = datasetPath ? parseDataset(readJsonFile(datasetPath, 'an evaluation set'), showPath(datasetPath)) : undefined;
  let model: ModelProto;
  try {
    model = readModel(bytes);
    if (inlineExternalData(model, dir)) bytes = writeModel(model);
  } catch (error) {
    throw new Error(`${showPath(onnxPath)}: ${(error as Error).message}`);
  }
  return { onnxPath, bytes, model, card, dataset, datasetPath };
}
