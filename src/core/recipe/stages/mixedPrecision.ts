// The quantize stage's mixed-precision fields: `mixed` (per-layer widths allocated from measured
// sensitivity under a target average of code bits per weight, src/core/quant/mixed.ts) and
// `bitsByLayer` (widths the user set, which override the allocation — or the stage's `bits` when
// there is no `mixed`). Parsed and checked here so quantize.ts only calls in. See
// docs/quantization.md, "Mixed precision".
import type { LinearLayer } from '../../model/types.ts';
import { DEFAULT_MIXED_CANDIDATES } from '../../quant/mixed.ts';
import { listLayers } from '../layers.ts';
import { describeValue, fieldPath, quoted, type FieldReader } from '../reader.ts';
import type { StageProblem } from '../stage.ts';

export { DEFAULT_MIXED_CANDIDATES };

export interface MixedPrecision {
  /** Target average of CODE bits per weight over the stage's layers (scales and zero points not counted). */
  targetBits: number;
  /** The widths a layer may get, 2–8 each. */
  candidates: number[];
}

/** The fields mixed precision reads from a quantize stage. */
export interface MixedPrecisionFields {
  method: string;
  bits: number;
  mixed?: MixedPrecision;
  /** Layer name → width (2–8), set by the user. */
  bitsByLayer?: Record<string, number>;
}

export const MIN_WIDTH = 2;
export const MAX_WIDTH = 8;

export function defaultMixedPrecision(): MixedPrecision {
  return { targetBits: 4, candidates: [...DEFAULT_MIXED_CANDIDATES] };
}

/** `mixed` and `bitsByLayer` when present (undefined keys otherwise, so a stage without them stays as it was). */
export function parseMixedFields(fields: FieldReader): Pick<MixedPrecisionFields, 'mixed' | 'bitsByLayer'> {
  const out: Pick<MixedPrecisionFields, 'mixed' | 'bitsByLayer'> = {};
  const mixed = fields.object('mixed');
  if (mixed) {
    const defaults = defaultMixedPrecision();
    const raw = mixed.raw('candidates');
    let candidates = defaults.candidates;
    if (raw !== undefined) {
      if (Array.isArray(raw) && raw.every((b) => typeof b === 'number')) candidates = raw as number[];
      else mixed.problem('candidates', `must be an array of bit widths, got ${describeValue(raw)}`);
    }
    out.mixed = { targetBits: mixed.number('targetBits', defaults.targetBits), candidates };
    mixed.finish();
  }
  const byLayer = fields.object('bitsByLayer');
  if (byLayer) {
    out.bitsByLayer = {};
    for (const name of Object.keys(byLayer.json)) {
      const bits = byLayer.number(name, NaN);
      if (!Number.isNaN(bits)) out.bitsByLayer[name] = bits;
    }
  }
  return out;
}

const isWidth = (b: number) => Number.isInteger(b) && b >= MIN_WIDTH && b <= MAX_WIDTH;

/** Every reason the mixed-precision fields cannot run on the stage's layers (fields relative to the stage). */
export function validateMixedFields(stage: MixedPrecisionFields, layers: readonly LinearLayer[]): StageProblem[] {
  const problems: StageProblem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });
  if ((stage.mixed || stage.bitsByLayer) && (stage.method === 'mx' || stage.method === 'binary')) problem(stage.mixed ? 'mixed' : 'bitsByLayer', `${stage.method === 'mx' ? 'MX formats have a fixed element width' : 'binary weights are 1 bit'}; mixed precision and per-layer widths are for the integer methods (rtn, gptq, awq)`);
  const byName = new Map(layers.map((l) => [l.name, l]));
  const set = new Map<LinearLayer, number>();
  for (const [name, bits] of Object.entries(stage.bitsByLayer ?? {})) {
    const field = fieldPath('bitsByLayer', name);
    const layer = byName.get(name);
    if (!layer) problem(field, `no layer named ${quoted(name)} among the stage's layers (${listLayers(layers, (l) => l.name)})`);
    else if (!isWidth(bits)) problem(field, `must be an integer from ${MIN_WIDTH} to ${MAX_WIDTH}, got ${bits}`);
    else set.set(layer, bits);
  }
  const mixed = stage.mixed;
  if (!mixed) return problems;
  const bad = mixed.candidates.findIndex((b) => !isWidth(b));
  if (mixed.candidates.length === 0) problem('mixed.candidates', 'must list at least one width');
  else if (bad >= 0) problem(`mixed.candidates[${bad}]`, `must be an integer from ${MIN_WIDTH} to ${MAX_WIDTH}, got ${mixed.candidates[bad]}`);
  else if (new Set(mixed.candidates).size !== mixed.candidates.length) problem('mixed.candidates', `lists a width twice: ${mixed.candidates.join(', ')}`);
  else if (!(mixed.targetBits >= Math.min(...mixed.candidates))) {
    problem('mixed.targetBits', `${mixed.targetBits} is below the narrowest candidate, ${Math.min(...mixed.candidates)} bits`);
  } else if (layers.length > 0) {
    // The layers the user set spend their bits first; the rest need at least the narrowest width.
    const numel = (l: LinearLayer) => l.outFeatures * l.inFeatures;
    const total = layers.reduce((s, l) => s + numel(l), 0);
    const least = layers.reduce((s, l) => s + (set.get(l) ?? Math.min(...mixed.candidates)) * numel(l), 0) / total;
    if (least > mixed.targetBits + 1e-9) problem('mixed.targetBits', `${mixed.targetBits} bits per weight is impossible with bitsByLayer: the least average is ${least.toFixed(3)} (the set layers at their widths, the others at ${Math.min(...mixed.candidates)})`);
  }
  return problems;
}

/** The widths a stage may give a layer: the candidates and the user's, or its one `bits`. */
export function possibleWidths(stage: MixedPrecisionFields): number[] {
  return [...new Set([...(stage.mixed ? stage.mixed.candidates : [stage.bits]), ...Object.values(stage.bitsByLayer ?? {})])].sort((a, b) => a - b);
}

/** The width of a layer without an allocation: the user's, else the stage's bits. */
export const setWidthOf = (stage: MixedPrecisionFields, layer: Pick<LinearLayer, 'name'>): number | undefined => stage.bitsByLayer?.[layer.name];

/** "mixed 4 avg code bits from 3/4/8" for descriptions; '' without mixed fields. */
export function describeMixed(stage: MixedPrecisionFields): string {
  const edited = Object.keys(stage.bitsByLayer ?? {}).length;
  const set = edited > 0 ? `${edited} ${edited === 1 ? 'layer' : 'layers'} set by hand` : '';
  if (!stage.mixed) return set;
  return [`mixed ${stage.mixed.targetBits} avg code bits from ${stage.mixed.candidates.join('/')}`, set].filter(Boolean).join(', ');
}
