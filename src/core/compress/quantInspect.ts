// What the weight-histogram view shows for one quantized layer of a run (docs/quantization.md,
// "Weight histogram"): the dense weights of a group (or of the whole layer), the values the run's
// file stores for them, and the group's grid with its clipped range. The grid is read from the
// file: a packed layer's scales and zero points from its MatMulNBits node; an MX layer's block
// exponent recovered (exactly) from its dequantized values. A simulated integer layer's file holds
// only dequantized floats, so its grid is not shown, and the view says so.
import type { LinearLayer } from '../model/types.ts';
import type { Matrix } from '../prune/types.ts';
import { intGridLevels, mxBlockExponent, mxBlockLevels } from '../quant/grid.ts';
import { MX_BLOCK_SIZE, type MxFormat } from '../quant/mx.ts';
import type { StoredLayer } from './storedLayer.ts';

/** The whole layer, or one group of one output row (an MX block, for MX). */
export type QuantScope = { kind: 'layer' } | { kind: 'group'; row: number; group: number };

export type InspectedGrid =
  | { kind: 'int'; bits: number; symmetric: boolean; groupSize: number; groups: number; actOrder: boolean }
  | { kind: 'mx'; format: MxFormat; groups: number }
  | { kind: 'none'; why: string };

export interface LayerQuantInspection {
  layerId: string;
  rows: number;
  cols: number;
  storage: 'packed' | 'float';
  grid: InspectedGrid;
  /** The scope shown, clamped to the layer. */
  scope: QuantScope;
  /** The dense model's weights in the scope, and what the run's file stores for them (dequantized). */
  dense: Float32Array;
  quantized: Float32Array;
  /** The scope's grid, ascending; null for the whole layer (groups differ) or without a grid. */
  levels: Float64Array | null;
  /** The group's parameters, as stored: scale and zero point, or the MX block's exponent. */
  params: { scale: number; zeroPoint: number } | { exponent: number } | null;
  /** Dense weights of the scope beyond their own group's smallest or largest level (clipped); null without a grid. */
  clipped: { below: number; above: number } | null;
  /** Where the grid comes from, in a sentence. */
  source: string;
}

export interface InspectRequest {
  layer: LinearLayer;
  /** The layer's weight in the model the run started from. */
  dense: Matrix;
  stored: StoredLayer;
  /** The quantize stage's method and, for 'mx', its element format. */
  method: string;
  mxFormat?: MxFormat;
  scope: QuantScope;
}

/** One group's grid: its levels and parameters. */
interface GroupGrid {
  levels: Float64Array;
  params: LayerQuantInspection['params'];
}

/** The columns of row-group g (act-order: those whose g_idx is g). */
function columnsOf(grid: InspectedGrid, cols: number, group: number, groupIndex?: Int32Array): number[] {
  if (grid.kind === 'int' && groupIndex) return Array.from({ length: cols }, (_, c) => c).filter((c) => groupIndex[c] === group);
  const size = grid.kind === 'int' ? grid.groupSize : MX_BLOCK_SIZE;
  const start = group * size;
  return Array.from({ length: Math.max(0, Math.min(cols, start + size) - start) }, (_, i) => start + i);
}

export function inspectLayerQuant(request: InspectRequest): LayerQuantInspection {
  const { layer, dense, stored } = request;
  const { rows, cols } = dense;
  const q = stored.storage === 'packed' ? stored.quantized : undefined;
  const grid: InspectedGrid = q
    ? { kind: 'int', bits: q.bits, symmetric: q.symmetric, groupSize: Math.min(q.groupSize, cols), groups: q.groups, actOrder: q.groupIndex !== undefined }
    : request.method === 'mx' && request.mxFormat
      ? { kind: 'mx', format: request.mxFormat, groups: Math.ceil(cols / MX_BLOCK_SIZE) }
      : { kind: 'none', why: `stored SIMULATED: the file holds this ${request.method.toUpperCase()} layer's dequantized float weights, not its scales and zero points, so its grid is not drawn; the histogram shows the stored values` };
  const source =
    grid.kind === 'int'
      ? 'scales and zero points read from the layer’s MatMulNBits node in the run’s file'
      : grid.kind === 'mx'
        ? 'each block’s power-of-two scale recovered from the file’s dequantized values (exact: ⌊log₂ max|ŵ|⌋ − emax), its levels ± the element values × 2^e'
        : grid.why;
  const groupGrid = (row: number, group: number, values: Float32Array): GroupGrid | null => {
    if (grid.kind === 'int' && q) {
      const scale = q.scales[row * q.groups + group];
      const zeroPoint = q.zeroPoints[row * q.groups + group];
      return { levels: intGridLevels(q.bits, scale, zeroPoint), params: { scale, zeroPoint } };
    }
    if (grid.kind === 'mx') {
      const exponent = mxBlockExponent(values, grid.format);
      return { levels: mxBlockLevels(exponent, grid.format), params: { exponent } };
    }
    return null;
  };
  // Without a grid a "group" is the whole row.
  const groupCount = grid.kind === 'none' ? 1 : grid.groups;
  const scope: QuantScope = request.scope.kind === 'layer' ? request.scope : { kind: 'group', row: clamp(request.scope.row, rows), group: clamp(request.scope.group, groupCount) };
  const pick = (m: Matrix, row: number, columns: number[]) => Float32Array.from(columns, (c) => m.data[row * cols + c]);

  if (scope.kind === 'group') {
    const columns = grid.kind === 'none' ? Array.from({ length: cols }, (_, c) => c) : columnsOf(grid, cols, scope.group, q?.groupIndex);
    const quantized = pick(stored.weight, scope.row, columns);
    const g = groupGrid(scope.row, scope.group, quantized);
    const values = pick(dense, scope.row, columns);
    return { layerId: layer.id, rows, cols, storage: stored.storage, grid, scope, dense: values, quantized, levels: g?.levels ?? null, params: g?.params ?? null, clipped: g ? clippedOf(values, g.levels) : null, source };
  }
  // The whole layer: each weight against its own group's range.
  let clipped: LayerQuantInspection['clipped'] = null;
  if (grid.kind !== 'none') {
    clipped = { below: 0, above: 0 };
    for (let r = 0; r < rows; r++) {
      for (let g = 0; g < grid.groups; g++) {
        const columns = columnsOf(grid, cols, g, q?.groupIndex);
        if (columns.length === 0) continue;
        const levels = groupGrid(r, g, pick(stored.weight, r, columns))!.levels;
        const c = clippedOf(pick(dense, r, columns), levels);
        clipped.below += c.below;
        clipped.above += c.above;
      }
    }
  }
  return { layerId: layer.id, rows, cols, storage: stored.storage, grid, scope, dense: Float32Array.from(dense.data), quantized: Float32Array.from(stored.weight.data), levels: null, params: null, clipped, source };
}

const clamp = (v: number, n: number) => Math.max(0, Math.min(n - 1, Math.floor(Number.isFinite(v) ? v : 0)));

function clippedOf(values: Float32Array, levels: Float64Array): { below: number; above: number } {
  if (levels.length === 0) return { below: 0, above: 0 };
  const [lo, hi] = [levels[0], levels[levels.length - 1]];
  let below = 0;
  let above = 0;
  for (const v of values) {
    if (v < lo) below++;
    else if (v > hi) above++;
  }
  return { below, above };
}
