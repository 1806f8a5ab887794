// A Hugging Face export folder on disk as the entries openHfFolder reads (src/core/hf/openFolder.ts),
// the same function the page gives dropped files to. Regular files only, two folders deep at most
// (a transformers.js repository keeps its graphs in onnx/), each read when the plan needs it.
import { existsSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { openHfFolder, type HfFolderEntry, type OpenHfOptions, type OpenedHfFolder } from '../core/hf/openFolder';
import type { Recipe } from '../core/recipe';
import { MAX_MODEL_BYTES, readRegularFile, showPath } from './files';

const MAX_DEPTH = 2;

/** Whether a CLI model argument is an export folder (not a bundled model folder with model.json). */
export function isHfFolder(target: string): boolean {
  return existsSync(target) && statSync(target).isDirectory() && !existsSync(join(target, 'model.json'));
}

export function folderEntries(folder: string): HfFolderEntry[] {
  const entries: HfFolderEntry[] = [];
  const walk = (dir: string, depth: number) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const stat = lstatSync(full);
      if (stat.isDirectory() && depth < MAX_DEPTH) walk(full, depth + 1);
      if (!stat.isFile()) continue;
      entries.push({ path: relative(folder, full).split('\\').join('/'), size: stat.size, read: async () => readRegularFile(full, 'a file of the export folder', MAX_MODEL_BYTES) });
    }
  };
  walk(folder, 0);
  return entries;
}

/** The folder opened; its messages name the file inside the folder, prefixed with the folder. */
export async function openFolderOnDisk(folder: string, options: OpenHfOptions = {}): Promise<OpenedHfFolder> {
  try {
    return await openHfFolder(folderEntries(folder), options);
  } catch (error) {
    throw new Error(`${showPath(folder)}: ${(error as Error).message}`);
  }
}

/**
 * The recipe with its calibration samples lowered to the calibration windows the user's text
 * gives, as the page does (hfController.ts), with the line that says so; the recipe as it was when
 * the text gives enough. A recipe written for the bundled sets asks for 32 samples, which a short
 * text does not hold, and refusing it would only make the user edit the file.
 */
export function fitCalibrationSamples(recipe: Recipe, windows: number, log: (line: string) => void): Recipe {
  if (recipe.calibration.samples <= windows) return recipe;
  log(`calibration     the recipe's ${recipe.calibration.samples} calibration samples lowered to ${windows}: all the calibration windows this text gives`);
  return { ...recipe, calibration: { ...recipe.calibration, samples: windows } };
}
