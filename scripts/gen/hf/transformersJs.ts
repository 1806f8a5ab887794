// A folder loaded and run by transformers.js (@huggingface/transformers) in Node, local files
// only: the ecosystem's own reader of Optimum / transformers.js repositories, and so the check
// that a generated or exported folder is one. It reads config.json, the tokenizer files and
// onnx/model{suffix}.onnx by dtype (fp32 → model.onnx, q4 → model_q4.onnx, …), and decodes with
// its own KV-cache loop (past_key_values.* fed from the previous present.*).
import { basename, dirname, resolve } from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, env, type Tensor } from '@huggingface/transformers';

export type TransformersJsDtype = 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | 'bnb4' | 'q4f16';

export interface TransformersJsOptions {
  /** Which graph file of onnx/ (transformers.js's DEFAULT_DTYPE_SUFFIX_MAPPING); default fp32. */
  dtype?: TransformersJsDtype;
  /** 'cpu' is onnxruntime-node; 'wasm' is onnxruntime-web. Default 'cpu'. */
  device?: 'cpu' | 'wasm';
}

export interface TransformersJsGeneration {
  /** The prompt as transformers.js's tokenizer encoded it. */
  promptIds: number[];
  /** Greedy continuation (stops early only at the end-of-text id). */
  newIds: number[];
  /** The continuation decoded by the same tokenizer. */
  text: string;
}

/**
 * Greedy-generates `maxNewTokens` tokens after `prompt` with the folder's model. Remote loading
 * is switched off: the folder is the model id under env.localModelPath, so nothing is fetched.
 */
export async function transformersJsGenerate(folder: string, prompt: string, maxNewTokens: number, options: TransformersJsOptions = {}): Promise<TransformersJsGeneration> {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = `${dirname(resolve(folder))}/`;
  const id = basename(resolve(folder));
  const tokenizer = await AutoTokenizer.from_pretrained(id, { local_files_only: true });
  const model = await AutoModelForCausalLM.from_pretrained(id, { local_files_only: true, dtype: options.dtype ?? 'fp32', device: options.device ?? 'cpu' });
  try {
    const inputs = tokenizer(prompt);
    const output = (await model.generate({ ...inputs, max_new_tokens: maxNewTokens, do_sample: false })) as Tensor;
    const all = Array.from(output.tolist()[0] as (number | bigint)[], Number);
    const promptIds = Array.from((inputs.input_ids as Tensor).tolist()[0] as (number | bigint)[], Number);
    const newIds = all.slice(promptIds.length);
    return { promptIds, newIds, text: tokenizer.decode(newIds) };
  } finally {
    await model.dispose();
  }
}
