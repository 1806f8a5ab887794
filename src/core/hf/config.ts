// config.json of a Hugging Face model: the family the lab treats it as, and the sizes the graph
// must agree with (layers, width, heads, key-value heads, vocabulary). GPT-2 names them n_layer,
// n_embd, n_head; the rest name them num_hidden_layers, hidden_size, num_attention_heads. A field
// of the wrong type is an error naming the file and the field; an unknown model_type is refused
// with the families the lab knows.
import { describeValue, isJsonObject } from '../recipe/reader.ts';

export type HfFamily = 'gpt2' | 'llama' | 'bert' | 'vit';

/** model_type → family: Llama-style decoders share RMSNorm, rotary positions, GQA and SwiGLU. */
const FAMILIES: Record<string, HfFamily> = {
  gpt2: 'gpt2',
  llama: 'llama',
  mistral: 'llama',
  qwen2: 'llama',
  qwen3: 'llama',
  smollm3: 'llama',
  bert: 'bert',
  roberta: 'bert',
  distilbert: 'bert',
  vit: 'vit',
};

export interface HfConfig {
  modelType: string;
  family: HfFamily;
  layers: number;
  hidden: number;
  heads: number;
  /** Grouped-query attention's key-value heads (= heads without GQA). */
  kvHeads: number;
  /** Tokens (absent for a ViT). */
  vocab?: number;
  /** MLP width, when the config gives it. */
  intermediate?: number;
}

export class HfConfigError extends Error {
  override name = 'HfConfigError';
}

/** Field names per family: GPT-2's own, else the common ones. */
function names(family: HfFamily) {
  return family === 'gpt2'
    ? { layers: ['n_layer', 'num_hidden_layers'], hidden: ['n_embd', 'hidden_size'], heads: ['n_head', 'num_attention_heads'], intermediate: ['n_inner'] }
    : { layers: ['num_hidden_layers'], hidden: ['hidden_size', 'dim'], heads: ['num_attention_heads'], intermediate: ['intermediate_size', 'hidden_dim'] };
}

/** config.json's parsed JSON → the sizes the lab checks the graph against. */
export function readHfConfig(json: unknown, file = 'config.json'): HfConfig {
  if (!isJsonObject(json)) throw new HfConfigError(`${file}: must be a JSON object, got ${describeValue(json)}`);
  const modelType = json.model_type;
  if (typeof modelType !== 'string') throw new HfConfigError(`${file}: model_type: required (a string such as "llama"), got ${describeValue(modelType)}`);
  const family = Object.hasOwn(FAMILIES, modelType) ? FAMILIES[modelType] : undefined;
  if (family === undefined) throw new HfConfigError(`${file}: model_type "${modelType.slice(0, 40)}" is not a family the lab knows (${Object.keys(FAMILIES).join(', ')})`);
  const count = (keys: readonly string[], required: boolean): number | undefined => {
    const key = keys.find((k) => json[k] !== undefined && json[k] !== null);
    if (key === undefined) {
      if (required) throw new HfConfigError(`${file}: ${keys[0]}: required for model_type "${modelType}"`);
      return undefined;
    }
    const value = json[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new HfConfigError(`${file}: ${key}: must be a positive integer, got ${describeValue(value)}`);
    return value;
  };
  const n = names(family);
  const heads = count(n.heads, true)!;
  const hidden = count(n.hidden, true)!;
  const kvHeads = count(['num_key_value_heads'], false) ?? heads;
  if (hidden % heads !== 0) throw new HfConfigError(`${file}: ${n.hidden[0]} = ${hidden} is not a multiple of ${n.heads[0]} = ${heads}`);
  if (heads % kvHeads !== 0) throw new HfConfigError(`${file}: num_attention_heads = ${heads} is not a multiple of num_key_value_heads = ${kvHeads}`);
  const vocab = count(['vocab_size'], family !== 'vit');
  const intermediate = count(n.intermediate, false);
  return { modelType, family, layers: count(n.layers, true)!, hidden, heads, kvHeads, ...(vocab === undefined ? {} : { vocab }), ...(intermediate === undefined ? {} : { intermediate }) };
}
