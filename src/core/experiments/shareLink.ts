// Share links: a recipe, the model it ran on, the view that matters and a compact summary of the
// results, as one URL fragment that reproduces the experiment.
//
//   https://…/#share=1.<base64url(deflate-raw(UTF-8 JSON))>
//
// A fragment, not a query string: it never reaches a server. The leading "1." is the link format
// version, readable before anything is inflated. Links are data, never code: decoding is bounded
// at every step (characters, inflated bytes, JSON depth through JSON.parse, string lengths) and
// the JSON goes through the same kind of strict reader as recipes (unknown fields, wrong types
// and impossible values are refused with the field's path), the recipe itself through
// parseRecipe. Nothing here builds markup; the page shows every string as text.
import { Inflate, deflateSync } from 'fflate';
import { checkSha256, describeValue, FieldReader, isJsonObject, RecipeProblems } from '../recipe/reader.ts';
import { readRecipeField, RecipeError } from '../recipe/parse.ts';
import type { Recipe } from '../recipe/types.ts';

export const SHARE_LINK_VERSION = 1;
/** The fragment key: `#share=…`. */
export const SHARE_PARAM = 'share';
/** Longest token accepted: well above any real link (a few hundred characters), far below harm. */
export const MAX_TOKEN_CHARS = 16_384;
/** Largest inflated JSON accepted (a deflate bomb stops here). */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
/** Longest string field accepted (a file name, a label). */
export const MAX_STRING_CHARS = 200;

export type SharedModel = { kind: 'bundled'; id: string } | { kind: 'file'; name: string; sha256: string };

/** What the page was showing: the tab, the layer and head picked. All optional. */
export interface SharedView {
  tab?: string;
  layer?: string;
  head?: { block: number; head: number };
}

/** The recorded outcome, shown at once as "as shared" before anything reruns. */
export interface SharedResult {
  /** The headline metric: perplexity (LM) or top-1 (classifier). */
  metric: 'perplexity' | 'top1';
  dense: number;
  value: number;
  /** 95 % paired bootstrap interval of value − dense, when it was measured. */
  interval?: { low: number; high: number };
  /** Measured bytes of the written file, and of the dense file. */
  sizeBytes: number;
  denseSizeBytes: number;
  /** Analytic bits per weight of the compressed layers, when quantized. */
  bitsPerWeight?: number;
  /** SHA-256 of the compressed weights (CompressReport.weightsSha256): Reproduce checks it. */
  weightsSha256: string;
  /** Where the layer jobs ran ("cpu", "webgpu"): a GPU path may differ within its tested bound. */
  compute: string;
  labVersion: string;
}

export interface SharePayload {
  v: typeof SHARE_LINK_VERSION;
  model: SharedModel;
  recipe: Recipe;
  view: SharedView;
  result?: SharedResult;
}

export type ShareDecode = { ok: true; payload: SharePayload } | { ok: false; message: string };

// ---- encode ----------------------------------------------------------------------------------

function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The link token for a payload: "1." + base64url(deflate-raw(JSON)). */
export function encodeShareToken(payload: SharePayload): string {
  const json = new TextEncoder().encode(JSON.stringify(payload));
  return `${SHARE_LINK_VERSION}.${toBase64Url(deflateSync(json, { level: 9 }))}`;
}

/** `base` (the page's address, any fragment dropped) with the payload's fragment. */
export function shareUrl(base: string, payload: SharePayload): string {
  return `${base.replace(/#.*$/, '')}#${SHARE_PARAM}=${encodeShareToken(payload)}`;
}

/** The token of a link or fragment ("…#share=1.xyz", "#share=1.xyz", "share=1.xyz"), if it has one. */
export function shareTokenOf(urlOrHash: string): string | undefined {
  const hash = urlOrHash.includes('#') ? urlOrHash.slice(urlOrHash.indexOf('#') + 1) : urlOrHash;
  for (const part of hash.split('&')) {
    if (part.startsWith(`${SHARE_PARAM}=`)) return part.slice(SHARE_PARAM.length + 1);
  }
  return undefined;
}

// ---- decode ----------------------------------------------------------------------------------

class LinkError extends Error {}

function fromBase64Url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new LinkError('the link holds characters a share link never has (it was changed or cut)');
  if (text.length % 4 === 1) throw new LinkError('the link is cut short');
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Inflates at most MAX_PAYLOAD_BYTES, in small pushes so a bomb is stopped before it grows. */
function inflateBounded(data: Uint8Array): Uint8Array {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let ended = false;
  const inflate = new Inflate((chunk, final) => {
    size += chunk.length;
    if (size > MAX_PAYLOAD_BYTES) throw new LinkError(`the link unpacks to more than ${MAX_PAYLOAD_BYTES / 1024} KiB; a share link is a few hundred bytes`);
    chunks.push(chunk);
    if (final) ended = true;
  });
  const step = 256;
  try {
    for (let i = 0; i < data.length; i += step) inflate.push(data.subarray(i, i + step), i + step >= data.length);
    if (data.length === 0) inflate.push(new Uint8Array(0), true);
  } catch (e) {
    if (e instanceof LinkError) throw e;
    throw new LinkError('the link is damaged: its compressed data does not unpack');
  }
  if (!ended) throw new LinkError('the link is cut short: its compressed data ends early');
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

function readString(fields: FieldReader, key: string, required: boolean): string | undefined {
  const value = fields.string(key);
  if (value === undefined) {
    if (required && !fields.has(key)) fields.problem(key, 'is required');
    return undefined;
  }
  if (value.length === 0 || value.length > MAX_STRING_CHARS) fields.problem(key, `must hold 1 to ${MAX_STRING_CHARS} characters, got ${value.length}`);
  // eslint-disable-next-line no-control-regex
  else if (/[\u0000-\u001f\u007f]/.test(value)) fields.problem(key, 'must not hold control characters');
  return value;
}

const BUNDLED_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

function readSha(fields: FieldReader, key: string): string {
  const value = readString(fields, key, true);
  if (value !== undefined) checkSha256(fields, key, value);
  return value ?? '';
}

function readModel(fields: FieldReader | undefined, problems: RecipeProblems): SharedModel {
  if (fields === undefined) {
    problems.add('model', 'is required');
    return { kind: 'bundled', id: '' };
  }
  const kind = fields.choice('kind', ['bundled', 'file'] as const, 'bundled');
  let model: SharedModel;
  if (kind === 'bundled') {
    const id = readString(fields, 'id', true) ?? '';
    if (id && !BUNDLED_ID.test(id)) fields.problem('id', `is not a bundled model's id, got ${describeValue(id)}`);
    model = { kind, id };
  } else {
    model = { kind, name: readString(fields, 'name', true) ?? '', sha256: readSha(fields, 'sha256') };
  }
  fields.finish();
  return model;
}

function readInteger(fields: FieldReader, key: string, max: number): number {
  const value = fields.number(key, Number.NaN);
  if (fields.has(key) && !(Number.isInteger(value) && value >= 0 && value <= max)) fields.problem(key, `must be an integer from 0 to ${max}, got ${describeValue(value)}`);
  return value;
}

function readView(fields: FieldReader | undefined): SharedView {
  if (fields === undefined) return {};
  const view: SharedView = {};
  const tab = readString(fields, 'tab', false);
  if (tab !== undefined) view.tab = tab;
  const layer = readString(fields, 'layer', false);
  if (layer !== undefined) view.layer = layer;
  const head = fields.object('head');
  if (head !== undefined) {
    view.head = { block: readInteger(head, 'block', 4096), head: readInteger(head, 'head', 4096) };
    for (const key of ['block', 'head']) if (!head.has(key)) head.problem(key, 'is required');
    head.finish();
  }
  fields.finish();
  return view;
}

/** A finite number in [min, max]; the link's numbers are shown, so absurd ones are refused. */
function readBounded(fields: FieldReader, key: string, min: number, max: number, required: boolean): number | undefined {
  if (!fields.has(key)) {
    fields.raw(key);
    if (required) fields.problem(key, 'is required');
    return undefined;
  }
  const value = fields.number(key, Number.NaN);
  if (Number.isFinite(value) && (value < min || value > max)) fields.problem(key, `must lie in [${min}, ${max}], got ${value}`);
  return value;
}

function readResult(fields: FieldReader | undefined): SharedResult | undefined {
  if (fields === undefined) return undefined;
  const metric = fields.choice('metric', ['perplexity', 'top1'] as const, 'perplexity');
  const [lo, hi] = metric === 'top1' ? [0, 1] : [1, 1e9];
  const result: SharedResult = {
    metric,
    dense: readBounded(fields, 'dense', lo, hi, true) ?? Number.NaN,
    value: readBounded(fields, 'value', lo, hi, true) ?? Number.NaN,
    sizeBytes: readBounded(fields, 'sizeBytes', 1, 2 ** 44, true) ?? Number.NaN,
    denseSizeBytes: readBounded(fields, 'denseSizeBytes', 1, 2 ** 44, true) ?? Number.NaN,
    weightsSha256: readSha(fields, 'weightsSha256'),
    compute: fields.choice('compute', ['cpu', 'webgpu'] as const, 'cpu'),
    labVersion: readString(fields, 'labVersion', true) ?? '',
  };
  if (!fields.has('compute')) fields.problem('compute', 'is required');
  const bits = readBounded(fields, 'bitsPerWeight', 0, 64, false);
  if (bits !== undefined) result.bitsPerWeight = bits;
  const interval = fields.object('interval');
  if (interval !== undefined) {
    const low = readBounded(interval, 'low', -hi, hi, true) ?? Number.NaN;
    const high = readBounded(interval, 'high', -hi, hi, true) ?? Number.NaN;
    if (low > high) interval.problem('low', `must not exceed high (${high}), got ${low}`);
    interval.finish();
    result.interval = { low, high };
  }
  fields.finish();
  return result;
}

/** The payload of parsed JSON, or every problem with its field path. */
export function readSharePayload(json: unknown): SharePayload {
  if (!isJsonObject(json)) throw new RecipeError([`a share link holds a JSON object, got ${describeValue(json)}`]);
  const problems = new RecipeProblems();
  const top = new FieldReader(json, '', problems);
  const version = top.raw('v');
  if (version !== SHARE_LINK_VERSION) {
    throw new RecipeError([`v: this lab reads share links of version ${SHARE_LINK_VERSION}, got ${describeValue(version)}`]);
  }
  const model = readModel(top.object('model'), problems);
  const recipe = readRecipeField(top, 'recipe');
  const view = readView(top.object('view'));
  const result = readResult(top.object('result'));
  top.finish();
  if (problems.list.length > 0 || recipe === undefined) throw new RecipeError(problems.list);
  return { v: SHARE_LINK_VERSION, model, recipe, view, ...(result ? { result } : {}) };
}

/** A link token → its payload, or one clear sentence on why it cannot be used. Never throws. */
export function decodeShareToken(token: string): ShareDecode {
  try {
    if (token.length > MAX_TOKEN_CHARS) throw new LinkError(`the link is ${token.length} characters long; a share link is at most ${MAX_TOKEN_CHARS}`);
    const dot = token.indexOf('.');
    const version = dot < 0 ? '' : token.slice(0, dot);
    if (!/^\d{1,4}$/.test(version)) throw new LinkError('this is not a Compression Lab share link (no version at its start)');
    if (Number(version) !== SHARE_LINK_VERSION) throw new LinkError(`the link is of format version ${version}; this lab reads version ${SHARE_LINK_VERSION}`);
    const bytes = inflateBounded(fromBase64Url(token.slice(dot + 1)));
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new LinkError('the link is damaged: its text is not UTF-8');
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new LinkError('the link is damaged: its contents are not JSON');
    }
    return { ok: true, payload: readSharePayload(json) };
  } catch (e) {
    if (e instanceof LinkError) return { ok: false, message: `This share link cannot be opened: ${e.message}.` };
    if (e instanceof RecipeError) return { ok: false, message: `This share link cannot be opened: ${e.problems.slice(0, 3).join('; ')}${e.problems.length > 3 ? ` (and ${e.problems.length - 3} more)` : ''}.` };
    return { ok: false, message: `This share link cannot be opened: ${e instanceof Error ? e.message.slice(0, MAX_STRING_CHARS) : 'unreadable'}.` };
  }
}
