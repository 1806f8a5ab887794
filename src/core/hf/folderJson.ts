// The JSON files of a dropped folder as the page reads them: parsed with the file named in any
// error, and the few fields the page needs beyond readHfConfig's sizes (the context window that
// bounds generation and the default window length).
import { describeValue, isJsonObject } from '../recipe/reader.ts';

export class FolderJsonError extends Error {
  override name = 'FolderJsonError';
}

/** A JSON file's text, parsed; invalid JSON is one line naming the file and where it broke. */
export function parseFolderJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FolderJsonError(`${file}: not valid JSON (${(e as Error).message.split('\n')[0].slice(0, 120)})`);
  }
}

/**
 * Positions the model was trained for: GPT-2 names it n_positions (n_ctx in old configs), the
 * Llama-style configs max_position_embeddings. Undefined when config.json gives none.
 */
export function hfContextLength(config: unknown, file = 'config.json'): number | undefined {
  if (!isJsonObject(config)) return undefined;
  const key = ['n_positions', 'max_position_embeddings', 'n_ctx'].find((k) => config[k] !== undefined && config[k] !== null);
  if (key === undefined) return undefined;
  const value = config[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 2) throw new FolderJsonError(`${file}: ${key}: must be an integer ≥ 2, got ${describeValue(value)}`);
  return value;
}

/** The evaluation window's default length: 128 tokens, or the whole context when it is shorter. */
export const defaultWindowLength = (context: number | undefined): number => Math.min(128, context ?? 128);
