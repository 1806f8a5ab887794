// The positions a Hugging Face model was trained for, from its config.json: they bound generation
// and the default evaluation window.
import { describeValue, isJsonObject } from '../recipe/reader.ts';

export class ContextLengthError extends Error {
  override name = 'ContextLengthError';
}

/**
 * GPT-2 names the context n_positions (n_ctx in old configs), the Llama-style configs
 * max_position_embeddings. Undefined when config.json gives none.
 */
export function hfContextLength(config: unknown, file = 'config.json'): number | undefined {
  if (!isJsonObject(config)) return undefined;
  const key = ['n_positions', 'max_position_embeddings', 'n_ctx'].find((k) => config[k] !== undefined && config[k] !== null);
  if (key === undefined) return undefined;
  const value = config[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 2) throw new ContextLengthError(`${file}: ${key}: must be an integer ≥ 2, got ${describeValue(value)}`);
  return value;
}

/** The evaluation window's default length: 128 tokens, or the whole context when it is shorter. */
export const defaultWindowLength = (context: number | undefined): number => Math.min(128, context ?? 128);
