// The quantize stage: RTN, GPTQ or a microscaling (MX) format on the linear layers, after any
// pruning stage, with its export (packed MatMulNBits where ONNX Runtime runs it, simulated float
// weights otherwise). Its fields, defaults (ALGORITHMS.md: GPTQ blocksize 128, percdamp 0.01) and
// the checks that make it impossible on a model, before any work starts. See docs/quantization.md.
import type { LinearLayer } from '../../model/types.ts';
import { BINARIZERS, type Binarizer } from '../../quant/binary.ts';
import { MX_BLOCK_SIZE, MX_FORMAT_NAMES, type MxFormat } from '../../quant/mx.ts';
import { NBITS_WIDTHS, nBitsBlockSize } from '../../quant/export/pack.ts';
import { defaultLayerSelection, listLayers, prunableLayers, readLayerSelection, WRITABLE_DTYPES, type LayerSelection } from '../layers.ts';
import type { FieldReader } from '../reader.ts';
import type { StageCheck, StageKind, StageNeeds, StageProblem } from '../stage.ts';
import type { StageSpec } from '../types.ts';
import { describeMixed, parseMixedFields, possibleWidths, validateMixedFields, type MixedPrecision } from './mixedPrecision.ts';

export type QuantMethod = 'rtn' | 'gptq' | 'awq' | 'mx' | 'quik' | 'binary';
export const QUANT_METHODS: readonly QuantMethod[] = ['rtn', 'gptq', 'awq', 'mx', 'quik', 'binary'];

/** BiBench's post-training binarizers (quant/binary.ts; docs/kv-binary.md): always simulated. */
export { BINARIZERS, type Binarizer };

export type QuantGranularity = 'tensor' | 'row' | 'group';
export const QUANT_GRANULARITIES: readonly QuantGranularity[] = ['tensor', 'row', 'group'];

/** OCP MX v1.0 formats (quant/mx.ts): 32-element blocks with a shared power-of-two scale. */
export type MxFormatName = MxFormat;
export { MX_FORMAT_NAMES };

/**
 * 'packed': MatMulNBits (4 or 8 bits, groups a power of two ≥ 16), refused otherwise. 'simulated':
 * dequantized float weights, labelled so, with the packed size as an estimate. 'auto': packed
 * where the format allows, simulated elsewhere.
 */
export type QuantExport = 'auto' | 'packed' | 'simulated';
export const QUANT_EXPORTS: readonly QuantExport[] = ['auto', 'packed', 'simulated'];

export interface GptqOptions {
  blockSize: number;
  percDamp: number;
  /** Quantize columns in order of decreasing H diagonal (GPTQ's --act-order). */
  actOrder: boolean;
  /** With act-order and groups: the groups' parameters computed up front in natural order. */
  staticGroups: boolean;
}

/** Simulated per-token activation bits of QUIK's quantized columns (0 = activations stay float). */
export type QuikActivationBits = 0 | 4 | 8;
export const QUIK_ACTIVATION_BITS: readonly QuikActivationBits[] = [0, 4, 8];

/** QUIK (quant/quik.ts): k input columns kept in float, the rest GPTQ-quantized (the `gptq` fields apply). */
export interface QuikOptions {
  /**
   * k, the input columns with the largest activation scale kept in float. QUIK keeps 256 of 4096
   * (1/16); the bundled LM's layers are 128 wide (512 for the MLP down projection), so 1/16 of the
   * narrow ones is 8.
   */
  outlierColumns: number;
  /** Simulated per-token activation quantization of the quantized columns (W4A8, W4A4); 0 = off. */
  activationBits: QuikActivationBits;
}

export interface QuantizeStage extends StageSpec {
  kind: 'quantize';
  method: QuantMethod;
  /** Integer methods: bits per weight, 2–8. */
  bits: number;
  symmetric: boolean;
  granularity: QuantGranularity;
  /** Inputs per group along C_in when granularity is 'group'. */
  groupSize: number;
  /** GPTQ's MSE clip search for the grid (quant.py: grid 100, maxshrink 0.8, norm 2.4). */
  mseClip: boolean;
  gptq: GptqOptions;
  mxFormat: MxFormatName;
  quik: QuikOptions;
  /**
   * method 'binary': which BiBench baseline (xnor: sign(W − μ)·mean|W − μ|; dorefa: sign(W)·mean|W|;
   * bnn: sign(W)), α per `granularity` cell. Absent: 'xnor'. `bits` does not apply (1 bit).
   */
  binarizer?: Binarizer;
  export: QuantExport;
  layers: LayerSelection;
  /** Per-layer widths allocated from measured sensitivity under a target average (stages/mixedPrecision.ts). */
  mixed?: MixedPrecision;
  /** Layer name → width the user set: overrides the allocation, or `bits` without `mixed`. */
  bitsByLayer?: Record<string, number>;
}

export const isQuantizeStage = (stage: StageSpec): stage is QuantizeStage => stage.kind === 'quantize';

export function defaultQuantizeStage(): QuantizeStage {
  return {
    kind: 'quantize',
    method: 'gptq',
    bits: 4,
    symmetric: false,
    granularity: 'group',
    groupSize: 32,
    mseClip: false,
    gptq: { blockSize: 128, percDamp: 0.01, actOrder: false, staticGroups: false },
    mxFormat: 'mxfp4',
    quik: { outlierColumns: 8, activationBits: 0 },
    export: 'auto',
    layers: defaultLayerSelection(),
  };
}

/** The bit widths MatMulNBits packs (ONNX Runtime's contrib op; docs/quantized-export.md). */
export const PACKABLE_BITS: readonly number[] = NBITS_WIDTHS;

/** Inputs per group for a layer of C_in inputs (per-row and per-tensor: the whole row). */
function groupSizeFor(stage: Pick<QuantizeStage, 'granularity' | 'groupSize'>, inFeatures: number): number {
  return stage.granularity === 'group' ? stage.groupSize : inFeatures;
}

/** Why a layer cannot be packed as MatMulNBits with this stage, or undefined when it can. */
export function packProblem(stage: QuantizeStage, layer: Pick<LinearLayer, 'inFeatures'>): string | undefined {
  if (stage.method === 'mx') return 'MX formats have no ONNX Runtime kernel';
  if (stage.method === 'binary') return 'binary (1-bit) weights have no ONNX Runtime kernel';
  if (!PACKABLE_BITS.includes(stage.bits)) return `MatMulNBits packs ${PACKABLE_BITS.join(', ')} bits, not ${stage.bits}`;
  if (stage.granularity === 'tensor') return 'MatMulNBits has one scale per block of a row, not one per tensor';
  // The writer's own rule (quant/export/pack.ts), on the layer's shape.
  const groupSize = groupSizeFor(stage, layer.inFeatures);
  const block = nBitsBlockSize({ cols: layer.inFeatures, groupSize, groups: Math.ceil(layer.inFeatures / groupSize) });
  if (typeof block === 'string') return `MatMulNBits: ${block}`;
  const actOrderGroups = stage.method === 'gptq' && stage.gptq.actOrder && !stage.gptq.staticGroups && stage.granularity === 'group';
  if (actOrderGroups && stage.bits !== 4) return `act-order groups (g_idx) at ${stage.bits} bits: onnxruntime runs g_idx at 4 bits only`;
  return undefined;
}

// ---- parse -----------------------------------------------------------------------------------

function parseQuantizeStage(fields: FieldReader): QuantizeStage {
  const defaults = defaultQuantizeStage();
  const gptq = fields.object('gptq');
  const layers = fields.object('layers');
  const quik = fields.object('quik');
  const stage: QuantizeStage = {
    kind: 'quantize',
    method: fields.choice('method', QUANT_METHODS, defaults.method),
    bits: fields.number('bits', defaults.bits),
    symmetric: fields.boolean('symmetric', defaults.symmetric),
    granularity: fields.choice('granularity', QUANT_GRANULARITIES, defaults.granularity),
    groupSize: fields.number('groupSize', defaults.groupSize),
    mseClip: fields.boolean('mseClip', defaults.mseClip),
    gptq: {
      blockSize: gptq?.number('blockSize', defaults.gptq.blockSize) ?? defaults.gptq.blockSize,
      percDamp: gptq?.number('percDamp', defaults.gptq.percDamp) ?? defaults.gptq.percDamp,
      actOrder: gptq?.boolean('actOrder', defaults.gptq.actOrder) ?? defaults.gptq.actOrder,
      staticGroups: gptq?.boolean('staticGroups', defaults.gptq.staticGroups) ?? defaults.gptq.staticGroups,
    },
    mxFormat: fields.choice('mxFormat', MX_FORMAT_NAMES, defaults.mxFormat),
    quik: {
      outlierColumns: quik?.number('outlierColumns', defaults.quik.outlierColumns) ?? defaults.quik.outlierColumns,
      activationBits: (quik?.number('activationBits', defaults.quik.activationBits) ?? defaults.quik.activationBits) as QuikActivationBits,
    },
    export: fields.choice('export', QUANT_EXPORTS, defaults.export),
    ...(fields.has('binarizer') ? { binarizer: fields.choice('binarizer', BINARIZERS, 'xnor') } : {}),
    layers: readLayerSelection(layers),
    ...parseMixedFields(fields),
  };
  for (const nested of [gptq, layers, quik]) nested?.finish();
  return stage;
}

// ---- validate --------------------------------------------------------------------------------


/** An integer grid's own fields: bits 2–8, a known granularity, a group size ≥ 2. Shared with the prune stage's joint quantization. */
export function gridFieldProblems(grid: Pick<QuantizeStage, 'bits' | 'granularity' | 'groupSize'>): StageProblem[] {
  const problems: StageProblem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });
  if (!Number.isInteger(grid.bits) || grid.bits < 2 || grid.bits > 8) problem('bits', `must be an integer from 2 to 8, got ${grid.bits}${grid.bits === 1 ? ' (1 bit leaves one level per sign: not supported)' : ''}`);
  if (!QUANT_GRANULARITIES.includes(grid.granularity)) problem('granularity', `unknown granularity "${grid.granularity}"`);
  if (grid.granularity === 'group' && (!Number.isInteger(grid.groupSize) || grid.groupSize < 2)) problem('groupSize', `must be an integer >= 2, got ${grid.groupSize}`);
  return problems;
}

/** Groups of `groupSize` inputs must divide every layer's C_in. */
export function groupFitProblems(grid: Pick<QuantizeStage, 'granularity' | 'groupSize'>, layers: readonly LinearLayer[]): StageProblem[] {
  if (grid.granularity !== 'group' || !Number.isInteger(grid.groupSize) || grid.groupSize < 2) return [];
  const ragged = layers.filter((l) => l.inFeatures % grid.groupSize !== 0);
  return ragged.length > 0 ? [{ field: 'groupSize', message: `${grid.groupSize} does not divide C_in of ${listLayers(ragged, (l) => `${l.name} (${l.inFeatures})`)}` }] : [];
}

function validateQuantizeStage(stage: QuantizeStage, check: StageCheck): StageProblem[] {
  const problems: StageProblem[] = [];
  const problem = (field: string | undefined, message: string) => problems.push({ field, message });
  if (!QUANT_METHODS.includes(stage.method)) problem('method', `unknown method "${stage.method}" (known: ${QUANT_METHODS.join(', ')})`);
  const integer = stage.method !== 'mx' && stage.method !== 'binary';
  if (integer) problems.push(...gridFieldProblems(stage));
  else if (stage.method === 'binary') {
    // 1 bit: `bits` does not apply; the cell that shares α is the grid's granularity.
    problems.push(...gridFieldProblems({ ...stage, bits: 2 }));
    if (stage.binarizer !== undefined && !BINARIZERS.includes(stage.binarizer)) problem('binarizer', `unknown binarizer "${stage.binarizer}" (known: ${BINARIZERS.join(', ')})`);
  }
  else if (!MX_FORMAT_NAMES.includes(stage.mxFormat)) problem('mxFormat', `unknown MX format "${stage.mxFormat}" (known: ${MX_FORMAT_NAMES.join(', ')})`);
  if (stage.method === 'gptq') {
    if (!Number.isInteger(stage.gptq.blockSize) || stage.gptq.blockSize < 1) problem('gptq.blockSize', `must be a positive integer, got ${stage.gptq.blockSize}`);
    if (!(stage.gptq.percDamp >= 0)) problem('gptq.percDamp', `must be >= 0, got ${stage.gptq.percDamp}`);
    if (stage.granularity === 'tensor') problem('granularity', 'GPTQ quantizes per row or per group (its quantizer is per channel); use "row" or "group"');
  }
  if (stage.method === 'awq' && check.recipe.calibration.outputSample < 16) problem('method', `AWQ searches its scales on sampled input tokens: calibration.outputSample must be >= 16, got ${check.recipe.calibration.outputSample}`);
  const layers = prunableLayers(check.analysis, stage);
  if (check.analysis.linears.length === 0) problem(undefined, 'the model has no linear layers (MatMul/Gemm by a 2-D weight) to quantize');
  else if (layers.length === 0) problem('layers', 'no layer is left to quantize (embeddings and the head are excluded unless layers.includeHead; see layers.skip)');
  // A layer stored quantized (a MatMulNBits of a q4 export, a DequantizeLinear) has lost its float
  // weights: quantizing its dequantized values again would compound the rounding error.
  const nBits = layers.filter((l) => l.nBits !== undefined);
  if (nBits.length > 0) problem(undefined, `already quantized, and quantizing again compounds the error (start from the float model): ${listLayers(nBits, (l) => `${l.name} is MatMulNBits ${l.nBits!.bits}-bit, block ${l.nBits!.blockSize}`)}`);
  const packed = layers.filter((l) => l.nBits === undefined && (l.weightPath.includes('DequantizeLinear') || !WRITABLE_DTYPES.has(l.weightDtype)));
  if (packed.length > 0) problem(undefined, `only float32 and float16 weights can be quantized: ${listLayers(packed, (l) => `${l.name} is ${l.weightPath.includes('DequantizeLinear') ? 'already quantized' : l.weightDtype}`)}`);
  if (stage.method === 'quik') problems.push(...validateQuik(stage, layers));
  else if (integer || stage.method === 'binary') problems.push(...groupFitProblems(stage, layers));
  if (stage.method === 'mx') {
    const ragged = layers.filter((l) => l.inFeatures % MX_BLOCK_SIZE !== 0);
    if (ragged.length > 0) problem('mxFormat', `MX blocks are ${MX_BLOCK_SIZE} inputs, which does not divide C_in of ${listLayers(ragged, (l) => `${l.name} (${l.inFeatures})`)}`);
  }
  problems.push(...validateMixedFields(stage, layers));
  if (stage.export === 'packed' && problems.length === 0) {
    // With mixed precision every width a layer may get must pack.
    const unpackable = layers.map((l) => ({ l, why: possibleWidths(stage).map((bits) => packProblem({ ...stage, bits }, l)).find((why) => why !== undefined) })).filter((x) => x.why !== undefined);
    if (unpackable.length > 0) problem('export', `"packed" is impossible here: ${unpackable[0].why}${unpackable.length > 1 ? ` (${unpackable.length} layers)` : ''}; use "auto" or "simulated"`);
  }
  return problems;
}

/** QUIK's fields against the layers: k below every C_in, the group size dividing C_in − k. */
function validateQuik(stage: QuantizeStage, layers: readonly LinearLayer[]): StageProblem[] {
  const problems: StageProblem[] = [];
  const { outlierColumns: k, activationBits } = stage.quik;
  if (!QUIK_ACTIVATION_BITS.includes(activationBits)) problems.push({ field: 'quik.activationBits', message: `must be 0 (off), 4 or 8, got ${activationBits}` });
  if (stage.granularity === 'tensor') problems.push({ field: 'granularity', message: 'QUIK quantizes per row or per group (its quantizer is per channel); use "row" or "group"' });
  if (!Number.isInteger(stage.gptq.blockSize) || stage.gptq.blockSize < 1) problems.push({ field: 'gptq.blockSize', message: `must be a positive integer, got ${stage.gptq.blockSize}` });
  if (!(stage.gptq.percDamp >= 0)) problems.push({ field: 'gptq.percDamp', message: `must be >= 0, got ${stage.gptq.percDamp}` });
  if (stage.gptq.actOrder || stage.gptq.staticGroups) problems.push({ field: stage.gptq.actOrder ? 'gptq.actOrder' : 'gptq.staticGroups', message: 'QUIK orders the columns itself (ascending activation scale, the float columns last): act-order and static groups do not apply' });
  if (!Number.isInteger(k) || k < 0) {
    problems.push({ field: 'quik.outlierColumns', message: `must be an integer >= 0, got ${k}` });
    return problems;
  }
  const narrow = layers.filter((l) => k >= l.inFeatures);
  if (narrow.length > 0) problems.push({ field: 'quik.outlierColumns', message: `${k} must be less than C_in of ${listLayers(narrow, (l) => `${l.name} (${l.inFeatures})`)}` });
  else if (stage.granularity === 'group' && Number.isInteger(stage.groupSize) && stage.groupSize >= 2) {
    const ragged = layers.filter((l) => (l.inFeatures - k) % stage.groupSize !== 0);
    if (ragged.length > 0) problems.push({ field: 'groupSize', message: `${stage.groupSize} does not divide C_in − quik.outlierColumns of ${listLayers(ragged, (l) => `${l.name} (${l.inFeatures} − ${k} = ${l.inFeatures - k})`)}; choose outlierColumns so that C_in − k is a multiple of the group size, or granularity "row"` });
  }
  return problems;
}

// ---- needs, description, file tag ------------------------------------------------------------

function quantizeNeeds(stage: QuantizeStage): StageNeeds {
  // GPTQ needs H; AWQ a sample of each layer's inputs (its scale search and s_X = mean |x|); RTN
  // and MX need no data (their report error is measured when a sample exists).
  // Mixed precision measures every layer's sensitivity on the dense model before any is quantized.
  const dense: StageNeeds['dense'] = stage.mixed ? (stage.method === 'awq' ? ['hessian', 'inputTokens'] : ['hessian']) : [];
  // QUIK: H, and the activation scale max_t |x_tj| that comes with it (LayerStats.maxAbs); with
  // simulated activation quantization also sampled inputs, for the error with Q_a(x).
  if (stage.method === 'quik') return { dense, step: stage.quik.activationBits > 0 ? ['hessian', 'inputTokens'] : ['hessian'] };
  return { dense, step: stage.method === 'gptq' ? ['hessian'] : stage.method === 'awq' ? ['inputTokens'] : [] };
}

/** The stored format in words: "4-bit asym, groups of 32", "MXFP4, 32-element blocks". */
export function describeQuantFormat(stage: QuantizeStage): string {
  if (stage.method === 'mx') return `${stage.mxFormat.toUpperCase()}, ${MX_BLOCK_SIZE}-element blocks`;
  const granularity = stage.granularity === 'group' ? `groups of ${stage.groupSize}` : stage.granularity === 'row' ? 'per row' : 'per tensor';
  if (stage.method === 'binary') return describeBinary(stage.binarizer ?? 'xnor', granularity);
  return `${stage.bits}-bit ${stage.symmetric ? 'sym' : 'asym'}, ${granularity}`;
}

/** "1-bit XNOR sign(W − μ)·α, α per row (simulated)". */
function describeBinary(binarizer: Binarizer, granularity: string): string {
  if (binarizer === 'bnn') return '1-bit BNN sign(W), no scale (simulated)';
  return `1-bit ${binarizer === 'xnor' ? 'XNOR sign(W − μ)·α' : 'DoReFa sign(W)·α'}, α ${granularity} (simulated)`;
}

export function describeQuantizeStage(stage: QuantizeStage): string {
  if (stage.method === 'mx') return `${stage.mxFormat.toUpperCase()} (${MX_BLOCK_SIZE}-element blocks), export ${stage.export}`;
  if (stage.method === 'binary') return `binary, ${describeQuantFormat(stage)}`;
  const extras = [stage.mseClip ? 'MSE clip' : '', stage.method === 'gptq' && stage.gptq.actOrder ? `act-order${stage.gptq.staticGroups ? ', static groups' : ''}` : '', stage.method === 'quik' ? describeQuik(stage.quik) : ''].filter(Boolean);
  const mixed = describeMixed(stage);
  if (mixed) extras.unshift(mixed);
  // With `mixed` the width is per layer: the format without the stage's one width.
  const format = stage.mixed ? describeQuantFormat(stage).replace(/^\d+-bit /, '') : describeQuantFormat(stage);
  return `${stage.method}, ${format}${extras.length ? `, ${extras.join(', ')}` : ''}, export ${stage.export}`;
}

/** "8 outlier columns in float, activations 8-bit per token (simulated)". */
export function describeQuik(quik: QuikOptions): string {
  return `${quik.outlierColumns} outlier columns in float${quik.activationBits > 0 ? `, activations ${quik.activationBits}-bit per token (simulated)` : ''}`;
}

export function quantizeFileTag(stage: QuantizeStage): string {
  if (stage.method === 'mx') return stage.mxFormat;
  const granularity = stage.granularity === 'group' ? `g${stage.groupSize}` : stage.granularity === 'tensor' ? 't' : '';
  if (stage.method === 'binary') return `binary-${stage.binarizer ?? 'xnor'}${granularity ? `-${granularity}` : ''}`;
  const width = stage.mixed ? `mixed${stage.mixed.targetBits}` : `w${stage.bits}`;
  if (stage.method === 'quik') return `quik-${width}${granularity}-k${stage.quik.outlierColumns}${stage.quik.activationBits > 0 ? `-a${stage.quik.activationBits}` : ''}`;
  return `${stage.method}-${width}${granularity}`;
}

export const quantizeStageKind: StageKind<QuantizeStage> = {
  kind: 'quantize',
  defaults: defaultQuantizeStage,
  parse: parseQuantizeStage,
  validate: validateQuantizeStage,
  layers: (stage, analysis) => prunableLayers(analysis, stage),
  needs: quantizeNeeds,
  describe: describeQuantizeStage,
  fileTag: quantizeFileTag,
};
