// Tapped activations as token rows. Calibration statistics treat every position of every
// sequence (image patch, character) as one token: leading dims are flattened.
import type { HostTensor } from '../eval/runner.ts';
import type { ChannelAxis } from './targets.ts';

/** (tokens, channels) row-major float32. */
export interface TokenRows {
  tokens: number;
  channels: number;
  data: Float32Array;
}

export class TapShapeError extends Error {
  override name = 'TapShapeError';
}

/**
 * [..., T, C] (axis -1) or [..., C, N] (axis -2) → (tokens, C). A 1-D tensor is one token.
 * Throws when the channel dimension is not `channels`.
 */
export function toTokenRows(tensor: HostTensor, channelAxis: ChannelAxis, channels: number, label: string): TokenRows {
  if (tensor.dtype !== 'float32') throw new TapShapeError(`${label}: tapped tensor is ${tensor.dtype}, expected float32`);
  const dims = tensor.dims;
  const data = tensor.data as Float32Array;
  const rank = dims.length;
  const axisDim = rank === 0 ? 1 : dims[rank + (rank === 1 ? -1 : channelAxis)];
  if (axisDim !== channels) {
    throw new TapShapeError(`${label}: tapped shape [${dims.join(', ')}] has ${axisDim} channels on axis ${channelAxis}, expected ${channels}`);
  }
  const tokens = data.length / channels;
  if (channelAxis === -1 || rank <= 1) return { tokens, channels, data };
  // [..., C, N]: transpose each trailing C×N matrix to N×C.
  const n = dims[rank - 1];
  const out = new Float32Array(data.length);
  const matrices = data.length / (channels * n);
  for (let m = 0; m < matrices; m++) {
    const base = m * channels * n;
    for (let c = 0; c < channels; c++) for (let t = 0; t < n; t++) out[base + t * channels + c] = data[base + c * n + t];
  }
  return { tokens, channels, data: out };
}

/** Token rows [first, first + count) of a (tokens, channels) block, as a view. */
export function tokenSlice(rows: TokenRows, first: number, count: number): TokenRows {
  return { tokens: count, channels: rows.channels, data: rows.data.subarray(first * rows.channels, (first + count) * rows.channels) };
}
