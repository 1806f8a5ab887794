// Section "kernels": src/core/gpu/bench.ts's micro-benchmarks, each kernel against its CPU
// reference (the baseline, measured in the same run) on GPT-2 small shapes.
import type { GpuOutcome } from './gpu.ts';
import { formatMs, ratio, reason, type Table } from './measure.ts';

export async function kernelSection(gpu: GpuOutcome): Promise<Table> {
  const table: Table = {
    title: 'GPU kernels vs their CPU references (src/core/gpu/bench.ts, GPT-2 small shapes)',
    notes: [
      'Baseline per kernel: its CPU reference (*.ref.ts) = 1.00×. GPU times are end to end (upload, dispatch, readback) except the "resident" row; median of repeated runs after a warm-up.',
    ],
    columns: [{ header: 'kernel' }, { header: 'shape' }, { header: 'CPU ref ms', align: 'right' }, { header: 'GPU ms', align: 'right' }, { header: 'GPU vs CPU', align: 'right' }],
    rows: [],
  };
  if (!gpu.ok) {
    table.notes.push(`Not run: no WebGPU adapter (${gpu.reason}).`);
    table.rows.push(['(all)', '-', 'n/a', 'n/a', 'n/a']);
    return table;
  }
  try {
    for (const row of await gpu.gpu.modules.benchGpuKernels(gpu.gpu.device, { minMs: 200, minRepeats: 3 })) {
      table.rows.push([row.name, row.shape, formatMs(row.cpuMs), formatMs(row.gpuMs), ratio(row.gpuMs, row.cpuMs)]);
    }
  } catch (error) {
    table.notes.push(`Failed: ${reason(error)}`);
    table.rows.push(['(failed)', '-', 'n/a', 'n/a', 'n/a']);
  }
  return table;
}
