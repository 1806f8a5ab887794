// GpuContext on a real (software) device: caching, readback, and the error paths, which must
// name the program and say what went wrong.
import { expect, test } from 'vitest';
import { GpuContext, GpuError } from './context';
import { BufferUsage } from './flags';
import { defineProgram } from './program';
import { countingDevice } from './testing/countingDevice';
import { describeGpu } from './testing/describeGpu';
import { acquireNodeGpu } from './testing/nodeDevice';

const doubler = defineProgram({
  label: 'test.doubler',
  shader: `
    struct Params { count: u32 }
    @group(0) @binding(0) var<uniform> params: Params;
    @group(0) @binding(1) var<storage, read_write> data: array<f32>;
    override WG_X: u32 = 64;
    @compute @workgroup_size(WG_X)
    fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
      let i = (wid.x + wid.y * nwg.x) * WG_X + li;
      if (i < params.count) { data[i] = 2.0 * data[i]; }
    }`,
  entryPoint: 'main',
  uniforms: [{ name: 'count', type: 'u32' }],
  storage: [{ name: 'data', binding: 1, access: 'read_write' }],
  workgroupSize: [64],
});

/** data[i] = data[i]·scale + shift (u32, wrapping) for i < count: exact, so any mix-up of two dispatches' uniforms shows. */
const affine = defineProgram({
  label: 'test.affine',
  shader: `
    struct Params { count: u32, scale: u32, shift: u32 }
    @group(0) @binding(0) var<uniform> params: Params;
    @group(0) @binding(1) var<storage, read_write> data: array<u32>;
    override WG_X: u32 = 64;
    @compute @workgroup_size(WG_X)
    fn main(@builtin(global_invocation_id) gid: vec3u) {
      if (gid.x < params.count) { data[gid.x] = data[gid.x] * params.scale + params.shift; }
    }`,
  entryPoint: 'main',
  uniforms: [
    { name: 'count', type: 'u32' },
    { name: 'scale', type: 'u32' },
    { name: 'shift', type: 'u32' },
  ],
  storage: [{ name: 'data', binding: 1, access: 'read_write' }],
  workgroupSize: [64],
});

describeGpu('GpuContext', (gpu) => {
  test('a loop of dispatches creates no buffer or bind group after its first round, and each reads its own uniforms', async () => {
    const { device, counts } = countingDevice(gpu().device);
    const ctx = new GpuContext(device);
    const length = 200;
    const expected = Uint32Array.from({ length }, (_, i) => i);
    const data = ctx.upload('test.loopData', expected);
    const halves = [
      { buffer: data, offset: 0, size: 128 * 4 },
      { buffer: data, offset: 128 * 4, size: (length - 128) * 4 },
    ];
    const step = async (round: number) => {
      // Two bind groups (whole buffer, second half) and uniforms that change every dispatch.
      const count = 1 + ((round * 37) % length);
      const scale = 1 + (round % 5);
      await ctx.dispatch({ program: affine, uniforms: { count, scale, shift: round }, buffers: { data }, workgroups: Math.ceil(length / 64) });
      for (let i = 0; i < count; i++) expected[i] = (Math.imul(expected[i], scale) + round) >>> 0;
      const half = halves[round % 2];
      await ctx.dispatch({ program: affine, uniforms: { count: half.size / 4, scale: 3, shift: 1 }, buffers: { data: half }, workgroups: 2 });
      for (let i = 0; i < half.size / 4; i++) expected[half.offset / 4 + i] = (Math.imul(expected[half.offset / 4 + i], 3) + 1) >>> 0;
    };
    await step(0);
    await step(1);
    const after = { ...counts };
    // 1200 dispatches in one go: the arena fills (512 slots) and the context submits on its own.
    for (let round = 2; round < 600; round++) await step(round);
    expect(counts).toEqual(after);
    expect(after.createBindGroup).toBe(3);
    expect(await ctx.readUint32(data, length)).toEqual(expected);
    // A readback's staging buffer is the only object made after the loop.
    expect(counts.createBuffer).toBe(after.createBuffer + 1);
    data.destroy();
    ctx.destroy();
  });


  test('dispatches, folds a long line of workgroups, reads back; one pipeline per cache key', async () => {
    const ctx = new GpuContext(gpu().device, { limitCaps: { maxComputeWorkgroupsPerDimension: 4 } });
    const data = Float32Array.from({ length: 1000 }, (_, i) => i); // 16 workgroups → a 4×4 grid
    const buffer = ctx.upload('test.data', data);
    await ctx.dispatch({ program: doubler, uniforms: { count: 1000 }, buffers: { data: buffer }, workgroups: 16 });
    await ctx.dispatch({ program: defineProgram({ ...doubler }), uniforms: { count: 10 }, buffers: { data: buffer }, workgroups: 1 });
    const got = await ctx.readFloat32(buffer, 1000);
    expect(got[999]).toBe(1998);
    expect(got[9]).toBe(36);
    expect(got[10]).toBe(20);
    expect(ctx.cachedPipelineCount).toBe(1);
    buffer.destroy();
  });

  test('a WGSL error names the program and the line', async () => {
    const broken = defineProgram({ ...doubler, label: 'test.broken', shader: doubler.shader.replace('2.0 * data[i]', '2.0 * missing[i]') });
    const ctx = gpu();
    const buffer = ctx.upload('test.data', new Float32Array(4));
    const failure = ctx.dispatch({ program: broken, uniforms: { count: 4 }, buffers: { data: buffer }, workgroups: 1 });
    await expect(failure).rejects.toThrow(GpuError);
    await expect(failure).rejects.toThrow(/test\.broken.*missing/s);
    buffer.destroy();
  });

  test('a binding over maxStorageBufferBindingSize is refused before it reaches the device', async () => {
    const ctx = new GpuContext(gpu().device, { limitCaps: { maxStorageBufferBindingSize: 256 } });
    const buffer = ctx.createBuffer('test.big', 1024);
    await expect(ctx.dispatch({ program: doubler, uniforms: { count: 256 }, buffers: { data: buffer }, workgroups: 4 })).rejects.toThrow(
      /test\.doubler: binding 'data' is 1024 bytes, over this device's maxStorageBufferBindingSize \(256\)/,
    );
    buffer.destroy();
  });

  test('a validation error raised on the device comes back from flush() with the labels', async () => {
    const ctx = new GpuContext(gpu().device);
    // A buffer without STORAGE usage cannot be bound as storage.
    const wrong = ctx.createBuffer('test.notStorage', 16, BufferUsage.COPY_DST | BufferUsage.COPY_SRC);
    await ctx.dispatch({ program: doubler, uniforms: { count: 4 }, buffers: { data: wrong }, workgroups: 1 });
    const flushed = ctx.flush();
    await expect(flushed).rejects.toThrow(GpuError);
    await expect(flushed).rejects.toThrow(/validation error: .*test\.notStorage.*\(in: test\.doubler\)/s);
    console.info(`[GpuContext] example message: ${await flushed.catch((e: Error) => e.message)}`);
    wrong.destroy();
  });
});

test('a lost device is reported as such on the next call', async (context) => {
  if (process.env.LAB_SKIP_GPU_TESTS === '1') context.skip('LAB_SKIP_GPU_TESTS=1: GPU kernels not run');
  const { device } = await acquireNodeGpu();
  const ctx = new GpuContext(device);
  device.destroy();
  await device.lost;
  expect(() => ctx.createBuffer('test.afterLoss', 16)).toThrow(/GPU device lost \(destroyed\)/);
});
