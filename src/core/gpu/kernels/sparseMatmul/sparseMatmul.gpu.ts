// GPU side of the three matmul kernels (denseMatmul.wgsl, sparse24Matmul.wgsl,
// blockSparseMatmul.wgsl on the tiling of matmulTile.wgsl). Operands are uploaded once
// (uploadMatmulWeight) so a benchmark can time the dispatches alone; the array-in/array-out
// functions are for tests and the kernel check page.
import { STORAGE_USAGE, type GpuContext } from '../../context';
import { ceilDiv, defineProgram, type GpuProgram } from '../../program';
import tile from './matmulTile.wgsl?raw';
import dense from './denseMatmul.wgsl?raw';
import sparse24 from './sparse24Matmul.wgsl?raw';
import blockSparse from './blockSparseMatmul.wgsl?raw';
import { blockShapeProblems } from './sparseFormats';
import type { MatmulWeight } from './layouts';

/** Workgroup 16 × 16, each invocation 4 × 4 outputs: a 64 tokens × 64 outputs tile of Y. */
export const MATMUL_WORKGROUP = [16, 16] as const;
export const MATMUL_TILE = { tokens: 64, outputs: 64, inputsPerStep: 32 } as const;

const uniforms = [
  { name: 'tokens', type: 'u32' },
  { name: 'outFeatures', type: 'u32' },
  { name: 'inFeatures', type: 'u32' },
] as const;
const xy = [
  { name: 'x', binding: 1, access: 'read' },
  { name: 'y', binding: 2, access: 'read_write' },
] as const;
const constants = { TILE_K: MATMUL_TILE.inputsPerStep };

export const denseMatmulProgram = defineProgram({
  label: 'denseMatmul',
  shader: `${tile}\n${dense}`,
  entryPoint: 'denseMatmul',
  uniforms,
  storage: [...xy, { name: 'weight', binding: 3, access: 'read' }],
  workgroupSize: MATMUL_WORKGROUP,
  constants,
});

export const sparse24MatmulProgram = defineProgram({
  label: 'sparse24Matmul',
  shader: `${tile}\n${sparse24}`,
  entryPoint: 'sparse24Matmul',
  uniforms,
  storage: [...xy, { name: 'values', binding: 3, access: 'read' }, { name: 'positions', binding: 4, access: 'read' }],
  workgroupSize: MATMUL_WORKGROUP,
  constants,
});

const blockStorage = [...xy, { name: 'rowStart', binding: 3, access: 'read' }, { name: 'groupColumn', binding: 4, access: 'read' }, { name: 'values', binding: 5, access: 'read' }] as const;

export const blockRowMatmulProgram = defineProgram({ label: 'blockSparseMatmul.1x4', shader: `${tile}\n${blockSparse}`, entryPoint: 'blockRowMatmul', uniforms, storage: blockStorage, workgroupSize: MATMUL_WORKGROUP, constants });
export const blockColumnMatmulProgram = defineProgram({ label: 'blockSparseMatmul.4x1', shader: `${tile}\n${blockSparse}`, entryPoint: 'blockColumnMatmul', uniforms, storage: blockStorage, workgroupSize: MATMUL_WORKGROUP, constants });

export type { MatmulWeight };

/** A weight on the device, with the program that reads its layout. */
export interface ResidentWeight {
  program: GpuProgram;
  outFeatures: number;
  inFeatures: number;
  buffers: Record<string, GPUBuffer>;
}

/** A binding of array<vec4f> needs 16 bytes even when no group is kept. */
const atLeastOneVec4 = (values: Float32Array): Float32Array => (values.length >= 4 ? values : new Float32Array(4));

export function uploadMatmulWeight(ctx: GpuContext, given: MatmulWeight): ResidentWeight {
  const { outFeatures, inFeatures } = given.weight;
  const label = `${given.layout} weight (${outFeatures}×${inFeatures})`;
  if (given.layout === 'dense') {
    return { program: denseMatmulProgram, outFeatures, inFeatures, buffers: { weight: ctx.upload(label, given.weight.data) } };
  }
  if (given.layout === '2:4') {
    if (inFeatures % 4 !== 0) throw new Error(`sparse24Matmul: C_in = ${inFeatures} is not a multiple of 4`);
    const { values, positions } = given.weight;
    return { program: sparse24MatmulProgram, outFeatures, inFeatures, buffers: { values: ctx.upload(`${label}.values`, values), positions: ctx.upload(`${label}.positions`, positions) } };
  }
  const w = given.weight;
  const problems = blockShapeProblems(w, w.shape);
  if (problems.length > 0) throw new Error(`blockSparseMatmul: ${problems[0]}`);
  return {
    program: w.shape.rows === 1 ? blockRowMatmulProgram : blockColumnMatmulProgram,
    outFeatures,
    inFeatures,
    buffers: {
      rowStart: ctx.upload(`${label}.rowStart`, w.rowStart),
      groupColumn: ctx.upload(`${label}.groupColumn`, w.groupColumn),
      values: ctx.upload(`${label}.values`, atLeastOneVec4(w.values)),
    },
  };
}

export function releaseMatmulWeight(ctx: GpuContext, weight: ResidentWeight): void {
  for (const buffer of Object.values(weight.buffers)) ctx.release(buffer);
}

/** Encodes Y = X · Wᵀ on device buffers: x (tokens, C_in), y (tokens, C_out). */
export async function encodeMatmul(ctx: GpuContext, weight: ResidentWeight, x: GPUBuffer, y: GPUBuffer, tokens: number): Promise<void> {
  const { outFeatures, inFeatures } = weight;
  await ctx.dispatch({
    program: weight.program,
    uniforms: { tokens, outFeatures, inFeatures },
    buffers: { x, y, ...weight.buffers },
    workgroups: [ceilDiv(outFeatures, MATMUL_TILE.outputs), ceilDiv(tokens, MATMUL_TILE.tokens), 1],
  });
}

/** Y = X · Wᵀ for token rows x (tokens, C_in), on the kernel of the weight's layout. */
export async function matmulGpu(ctx: GpuContext, x: Float32Array, tokens: number, weight: MatmulWeight): Promise<Float32Array> {
  const { outFeatures, inFeatures } = weight.weight;
  if (x.length !== tokens * inFeatures) throw new Error(`matmul: x has ${x.length} values, expected ${tokens}×${inFeatures}`);
  if (tokens === 0 || outFeatures === 0) return new Float32Array(tokens * outFeatures);
  const resident = uploadMatmulWeight(ctx, weight);
  const xBuffer = ctx.upload(`matmul.x(${tokens}×${inFeatures})`, x);
  const yBuffer = ctx.createBuffer(`matmul.y(${tokens}×${outFeatures})`, tokens * outFeatures * 4, STORAGE_USAGE);
  try {
    await encodeMatmul(ctx, resident, xBuffer, yBuffer, tokens);
    return await ctx.readFloat32(yBuffer, tokens * outFeatures);
  } finally {
    releaseMatmulWeight(ctx, resident);
    ctx.release(xBuffer);
    ctx.release(yBuffer);
  }
}
