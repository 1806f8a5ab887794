// A GPUDevice whose createBuffer / createBindGroup calls are counted, for tests that check that a
// loop of dispatches creates no GPU objects after its first round (bindings.ts).

export interface CreateCounts {
  createBuffer: number;
  createBindGroup: number;
}

/** `device` behind a Proxy: the two creators counted, everything else passed through to it. */
export function countingDevice(device: GPUDevice): { device: GPUDevice; counts: CreateCounts } {
  const counts: CreateCounts = { createBuffer: 0, createBindGroup: 0 };
  const wrapped = new Proxy(device, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (property === 'createBuffer' || property === 'createBindGroup') {
        return (...args: unknown[]) => {
          counts[property]++;
          return method.apply(target, args);
        };
      }
      // Native methods need the real device as `this`.
      return method.bind(target);
    },
  });
  return { device: wrapped, counts };
}
