// CPU reference for the quantiser grid kernels: quant/rtn.ts's own scalar functions (GPTQ's
// quant.py `Quantizer.find_params` and `quantize`, float32 via Math.fround), not a second copy.
//   fit            — findSpanParams per (row, group) (plain TypeScript; the shipped RTN takes the
//                    ranges from the wasm kernel, which the kernel test also compares against);
//                    per tensor, findQuantParams (one span over every weight, repeated per row).
//   codes, Ŵ       — quantize and fakeQuantize on every weight.
import { fakeQuantize, findQuantParams, findSpanParams, groupSizeOf, maxCode, quantize, type QuantParams } from '../../../quant/rtn';
import type { Granularity, IntGrid, Matrix } from '../../../quant/types';

/** find_params on `groupCount` groups from column colStart (a group boundary) into the tables (rows × groups) at colStart / groupSize. */
export function fitGroupsRef(weights: Float32Array, rows: number, cols: number, groupSize: number, grid: IntGrid, tables: { scales: Float32Array; zeros: Float32Array; groups: number }, colStart = 0, groupCount = tables.groups): void {
  for (let k = 0; k < groupCount; k++) {
    const c = colStart + k * groupSize;
    findSpanParams({ data: weights, rowStride: cols, offset: c }, rows, Math.min(groupSize, cols - c), grid, false, { scale: tables.scales, zero: tables.zeros, stride: tables.groups, offset: c / groupSize });
  }
}

export function quantGridRef(weight: Matrix, grid: IntGrid, granularity: Granularity): { params: QuantParams; codes: Uint8Array; dequantized: Float32Array } {
  const { rows, cols, data } = weight;
  let params: QuantParams;
  if (granularity.kind === 'tensor') params = findQuantParams(weight, grid, granularity);
  else {
    const groupSize = groupSizeOf(granularity, cols, 'RTN');
    const groups = Math.ceil(cols / groupSize);
    const tables = { scales: new Float32Array(rows * groups), zeros: new Float32Array(rows * groups), groups };
    fitGroupsRef(data, rows, cols, groupSize, grid, tables);
    params = { groupSize, groups, scales: tables.scales, zeroPoints: tables.zeros };
  }
  const maxq = maxCode(grid.bits);
  const codes = new Uint8Array(rows * cols);
  const dequantized = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const t = r * params.groups + Math.floor(c / params.groupSize);
      const x = data[r * cols + c];
      codes[r * cols + c] = quantize(x, params.scales[t], params.zeroPoints[t], maxq);
      dequantized[r * cols + c] = fakeQuantize(x, params.scales[t], params.zeroPoints[t], maxq);
    }
  }
  return { params, codes, dequantized };
}
