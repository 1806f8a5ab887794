// What each input of a causal LM is, and the feeds for a token batch. The bundled models take one
// input (token ids); a Hugging Face export (Optimum's exporter, transformers.js repositories) takes
// up to five kinds, named as Optimum names them (optimum/exporters/onnx/config.py,
// TextDecoderOnnxConfig / TextDecoderWithPositionIdsOnnxConfig):
//   input_ids       int64 [batch, seq]
//   attention_mask  int64 [batch, past + seq]    all ones: the lab's windows are never padded
//   position_ids    int64 [batch, seq]           past .. past + seq − 1
//   token_type_ids  int64 [batch, seq]           zeros (BERT-style encoders)
//   past_key_values.{i}.key|value  float32 [batch, kvHeads, past, headDim]   empty (past = 0) when no cache
//   use_cache_branch bool [1]                    Optimum's merged decoder: false without a cache
// and returns `logits` [batch, seq, vocab] then `present.{i}.key|value` (the cache after this step).
// transformers.js feeds the same names (src/models.js, decoderForward / getPastKeyValues), which is
// where the empty-cache convention (a zero-length past axis) comes from.
import type { TensorInfo } from '../model/types.ts';
import { quoteName } from '../onnx/display.ts';
import { tokenBatch } from './inputs.ts';
import type { HostTensor, ModelRunner } from './runner.ts';

export type LmInputRole = 'tokenIds' | 'attentionMask' | 'positionIds' | 'tokenTypeIds' | 'past' | 'useCacheBranch';

/** One past_key_values input, and the present output that carries it to the next step. */
export interface PastSlot {
  input: string;
  /** The output holding the cache after a step (present.{i}.key for past_key_values.{i}.key). */
  present: string;
  kvHeads: number;
  headDim: number;
}

export interface LmInputPlan {
  tokenIds: string;
  /** Every input, in the graph's order, with what it is. */
  roles: { name: string; role: LmInputRole }[];
  past: PastSlot[];
  /** Integer inputs' element types (int64 unless the graph says int32). */
  intType: Record<string, 'int64' | 'int32'>;
}

export type LmInputPlanResult = { ok: true; plan: LmInputPlan } | { ok: false; message: string };

const KNOWN = 'input_ids, attention_mask, position_ids, token_type_ids, past_key_values.*, use_cache_branch';
const PAST = /^past_key_values\.(\d+)\.(key|value)$/;

const roleByName: Record<string, LmInputRole> = {
  input_ids: 'tokenIds',
  attention_mask: 'attentionMask',
  position_ids: 'positionIds',
  token_type_ids: 'tokenTypeIds',
  use_cache_branch: 'useCacheBranch',
};

const showInput = (input: TensorInfo) => `${quoteName(input.name)} (${input.dtype}${input.shape ? ` [${input.shape.map((d) => d ?? '?').join(', ')}]` : ''})`;

/**
 * What each of a causal LM's inputs is, or one sentence naming the input the lab cannot feed. A
 * model with a single input feeds it token ids whatever its name (the bundled models'); otherwise
 * inputs are known by Optimum's names.
 */
export function planLmInputs(inputs: readonly TensorInfo[]): LmInputPlanResult {
  if (inputs.length === 0) return { ok: false, message: 'the model has no graph inputs' };
  const intType: Record<string, 'int64' | 'int32'> = {};
  const isInt = (input: TensorInfo) => input.dtype === 'int64' || input.dtype === 'int32';
  if (inputs.length === 1) {
    const [only] = inputs;
    if (!isInt(only)) return { ok: false, message: `the model's only input ${showInput(only)} is not token ids (int64 [batch, seq])` };
    intType[only.name] = only.dtype as 'int64' | 'int32';
    return { ok: true, plan: { tokenIds: only.name, roles: [{ name: only.name, role: 'tokenIds' }], past: [], intType } };
  }
  const roles: LmInputPlan['roles'] = [];
  const past: PastSlot[] = [];
  for (const input of inputs) {
    const pastName = PAST.exec(input.name);
    if (pastName) {
      const dims = input.shape ?? [];
      const [kvHeads, headDim] = [dims[1], dims[3]];
      if (input.dtype !== 'float32') return { ok: false, message: `the model's cache input ${showInput(input)} is not float32: the lab feeds float32 caches only` };
      if (dims.length !== 4 || typeof kvHeads !== 'number' || typeof headDim !== 'number')
        return { ok: false, message: `the model's cache input ${showInput(input)} does not give its key-value heads and head size as numbers ([batch, kv_heads, past, head_dim])` };
      past.push({ input: input.name, present: `present.${pastName[1]}.${pastName[2]}`, kvHeads, headDim });
      roles.push({ name: input.name, role: 'past' });
      continue;
    }
    const role = roleByName[input.name];
    if (role === undefined) return { ok: false, message: `the model's input ${showInput(input)} is not one the lab can feed (it knows ${KNOWN})` };
    if (role === 'useCacheBranch' ? input.dtype !== 'bool' : !isInt(input)) return { ok: false, message: `the model's input ${showInput(input)} has an unexpected type for ${input.name}` };
    if (role !== 'useCacheBranch') intType[input.name] = input.dtype as 'int64' | 'int32';
    roles.push({ name: input.name, role });
  }
  const tokenIds = roles.find((r) => r.role === 'tokenIds')?.name;
  if (tokenIds === undefined) return { ok: false, message: `the model takes ${inputs.length} inputs but none is input_ids (${inputs.map((i) => quoteName(i.name)).join(', ')})` };
  return { ok: true, plan: { tokenIds, roles, past, intType } };
}

/** planLmInputs, throwing its message. */
export function requireLmInputs(inputs: readonly TensorInfo[]): LmInputPlan {
  const result = planLmInputs(inputs);
  if (!result.ok) throw new Error(result.message);
  return result.plan;
}

/**
 * The graph inputs as the runtime reported them; a runner that reports none (a test double) is
 * taken to feed token ids to its first input, as the lab fed every model before HF exports.
 */
export function runnerInputInfo(runner: Pick<ModelRunner, 'inputNames' | 'inputInfo'>): readonly TensorInfo[] {
  return runner.inputInfo ?? [{ name: runner.inputNames[0], dtype: 'int64', shape: null }];
}

export function runnerLmInputs(runner: Pick<ModelRunner, 'inputNames' | 'inputInfo'>): LmInputPlan {
  return requireLmInputs(runnerInputInfo(runner));
}

/** A cache carried between steps: present.* of the last run, keyed by the past input they feed. */
export interface KvCache {
  tensors: Record<string, HostTensor>;
  /** Positions it holds (its third axis). */
  length: number;
}

function intTensor(type: 'int64' | 'int32', rows: number, length: number, value: (b: number, t: number) => number): HostTensor {
  if (type === 'int32') {
    const data = new Int32Array(rows * length);
    for (let b = 0; b < rows; b++) for (let t = 0; t < length; t++) data[b * length + t] = value(b, t);
    return { dtype: 'int32', dims: [rows, length], data };
  }
  const data = new BigInt64Array(rows * length);
  for (let b = 0; b < rows; b++) for (let t = 0; t < length; t++) data[b * length + t] = BigInt(value(b, t));
  return { dtype: 'int64', dims: [rows, length], data };
}

/**
 * Every input for `rows` (each at least `length` ids; the first `length` are fed) after `cache`
 * (none: an empty cache). Unpadded windows, so the mask is all ones over past and new positions.
 */
export function lmFeeds(plan: LmInputPlan, rows: readonly (readonly number[])[], length: number, cache?: KvCache): Record<string, HostTensor> {
  const batch = rows.length;
  const past = cache?.length ?? 0;
  if (cache && plan.past.length === 0) throw new Error('lmFeeds: a cache was given to a model without past_key_values inputs');
  const feeds: Record<string, HostTensor> = {};
  for (const { name, role } of plan.roles) {
    const type = plan.intType[name] ?? 'int64';
    if (role === 'tokenIds') feeds[name] = type === 'int64' ? tokenBatch(rows, length) : intTensor(type, batch, length, (b, t) => rows[b][t]);
    else if (role === 'attentionMask') feeds[name] = intTensor(type, batch, past + length, () => 1);
    else if (role === 'positionIds') feeds[name] = intTensor(type, batch, length, (_, t) => past + t);
    else if (role === 'tokenTypeIds') feeds[name] = intTensor(type, batch, length, () => 0);
    else if (role === 'useCacheBranch') feeds[name] = { dtype: 'bool', dims: [1], data: new Uint8Array([cache ? 1 : 0]) };
  }
  for (const slot of plan.past) {
    const carried = cache?.tensors[slot.input];
    if (cache && !carried) throw new Error(`lmFeeds: the cache holds no ${slot.input}`);
    feeds[slot.input] = carried ?? { dtype: 'float32', dims: [batch, slot.kvHeads, 0, slot.headDim], data: new Float32Array(0) };
  }
  return feeds;
}

/** The outputs a step needs: the logits, and the present.* that become the next step's cache. */
export function cacheFromOutputs(plan: LmInputPlan, outputs: Record<string, HostTensor>): KvCache {
  const tensors: Record<string, HostTensor> = {};
  let length = -1;
  for (const slot of plan.past) {
    const present = outputs[slot.present];
    if (!present || present.dtype !== 'float32' || present.dims.length !== 4) throw new Error(`the model returned no float32 [batch, kv_heads, positions, head_dim] output "${slot.present}" for ${slot.input}`);
    if (length >= 0 && present.dims[2] !== length) throw new Error(`the model's cache outputs disagree on their length (${slot.present}: ${present.dims[2]}, others ${length})`);
    length = present.dims[2];
    tensors[slot.input] = present;
  }
  return { tensors, length: Math.max(length, 0) };
}

/** The output read as logits: the one named `logits`, else the first float32 output (the first output when types are unknown). */
export function logitsOutputName(runner: Pick<ModelRunner, 'outputNames' | 'outputInfo'>): string {
  if (runner.outputNames.includes('logits')) return 'logits';
  return runner.outputInfo?.find((o) => o.dtype === 'float32')?.name ?? runner.outputNames[0];
}

export function logitsOf(runner: ModelRunner, outputs: Record<string, HostTensor>): HostTensor {
  const name = logitsOutputName(runner);
  const out = outputs[name];
  if (!out || out.dtype !== 'float32') throw new Error(`Model output "${name}" is not a float32 tensor`);
  return out;
}
