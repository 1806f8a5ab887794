// SliceGPT (Ashkboos et al. 2024, arXiv:2401.15024), in the order of TransformerCompression's
// `rotate_and_slice_sequential` (src/slicegpt/rotate.py): fuse the norms (fuse.ts), then walk the
// stream's sites in model order — the embeddings' sum, then each block's stream after attention
// and after its MLP — and at each one run the model as it is so far (earlier sites rotated and
// sliced, this one and later ones not yet), take the principal directions of the site's hidden
// states on the calibration tokens (pca.ts) and keep the first k of them. So every PCA sees the
// signal the already-sliced blocks produce, as in the reference.
import type { ModelAnalysis } from '../model/types.ts';
import type { ModelProto } from '../onnx/types.ts';
import { fuseNorms, type FusedModel } from './fuse.ts';
import { leadingColumns, principalDirections } from './pca.ts';
import { siteTensors, writeSlicedModel, type Rotation, type SlicedGraphInfo } from './rewrite.ts';
import { findResidualStream, type ResidualStream } from './structure.ts';

export interface SliceOptions {
  /** Fraction of the embedding dimension kept (the reference's 1 − sparsity). */
  keep: number;
  /** The kept width is rounded down to a multiple of this (the reference's --round-interval). */
  rounding: number;
  /** Also slice the head's input (ConstSlicingScheduler's do_slice_head; the reference's CLI leaves it false). */
  sliceHead: boolean;
}

/** The kept width: int(keep·d), rounded down to a multiple of `rounding` (run_slicegpt.py). */
export function slicedWidth(hidden: number, keep: number, rounding: number): number {
  const width = Math.floor(keep * hidden + 1e-9);
  return width - (width % rounding);
}

/** Σ_tokens xxᵀ (d × d, float64) of the stream tensor `tensor` when `model` runs on the calibration set. */
export type GramSource = (model: ModelProto, tensor: string, width: number) => Promise<Float64Array>;

export interface SiteReport {
  tensor: string;
  /** 'embeddings', 'block 0 attention', 'block 0 mlp', … */
  label: string;
  width: number;
  /** Damped eigenvalues (descending), as pca_calc returns them. */
  eigenvalues: Float64Array;
  /** Share of the (undamped) variance in the kept directions. */
  keptVariance: number;
}

export interface SliceResult {
  model: ModelProto;
  stream: ResidualStream;
  hidden: number;
  width: number;
  sites: SiteReport[];
  graph: SlicedGraphInfo;
}

export class SliceError extends Error {
  override name = 'SliceError';
}

function siteLabels(stream: ResidualStream): string[] {
  return ['embeddings', ...stream.blocks.flatMap((b) => [`block ${b.index} attention`, `block ${b.index} mlp`])];
}

/** The width of each site: k everywhere but the head's input, which keeps d unless sliceHead. */
export function siteWidths(stream: ResidualStream, options: SliceOptions): number[] {
  const width = slicedWidth(stream.hidden, options.keep, options.rounding);
  const widths = siteTensors(stream).map(() => width);
  if (!options.sliceHead) widths[widths.length - 1] = stream.hidden;
  return widths;
}

export interface SliceProgress {
  site: number;
  sites: number;
  label: string;
}

export async function sliceModel(
  model: ModelProto,
  analysis: ModelAnalysis,
  options: SliceOptions,
  gramOf: GramSource,
  onSite?: (progress: SliceProgress) => void,
): Promise<SliceResult> {
  const found = findResidualStream(model, analysis);
  if (!found.ok) throw new SliceError(found.problem);
  const stream = found.stream;
  const d = stream.hidden;
  const width = slicedWidth(d, options.keep, options.rounding);
  if (width < 1) throw new SliceError(`keep ${options.keep} with rounding ${options.rounding} leaves no dimension of ${d}`);
  const fused: FusedModel = fuseNorms(model, stream);
  const tensors = siteTensors(stream);
  const labels = siteLabels(stream);
  const widths = siteWidths(stream, options);
  const rotations: (Rotation | null)[] = tensors.map(() => null);
  const sites: SiteReport[] = [];
  for (let s = 0; s < tensors.length; s++) {
    onSite?.({ site: s, sites: tensors.length, label: labels[s] });
    const { model: current } = writeSlicedModel(model, stream, fused, rotations);
    const gram = await gramOf(current, tensors[s], d);
    const { values, vectors } = principalDirections(gram, d);
    rotations[s] = { matrix: leadingColumns(vectors, d, widths[s]), width: widths[s] };
    let trace = 0;
    for (let i = 0; i < d; i++) trace += gram[i * d + i];
    const damp = (0.01 * trace) / d;
    const kept = values.slice(0, widths[s]).reduce((a, v) => a + (v - damp), 0);
    sites.push({ tensor: tensors[s], label: labels[s], width: widths[s], eigenvalues: values, keptVariance: trace > 0 ? kept / trace : 1 });
  }
  const { model: sliced, info } = writeSlicedModel(model, stream, fused, rotations);
  return { model: sliced, stream, hidden: d, width, sites, graph: info };
}
