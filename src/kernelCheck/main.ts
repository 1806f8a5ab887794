// The kernel check page (kernel-check.html): every WGSL kernel's cases, against its CPU reference,
// on this browser's WebGPU adapter. The same checks run in Node (src/core/gpu/testing/
// kernelChecks.test.ts); e2e/kernels.e2e.ts opens this page and reads window.__kernelCheck.
import { GpuContext } from '../core/gpu/context';
import type { KernelCheckResult, KernelCheckSummary } from '../core/gpu/testing/kernelCheckResult';
import { BROWSER_MAX_ELEMENTS, kernelChecks, runKernelChecks } from '../core/gpu/testing/kernelChecks';

declare global {
  interface Window {
    __kernelCheck?: KernelCheckSummary;
  }
}

const status = document.getElementById('status')!;
const body = document.querySelector('#results tbody')!;

function addRow(r: KernelCheckResult): void {
  const row = document.createElement('tr');
  row.dataset.ok = String(r.ok);
  for (const text of [r.kernel, r.case, r.ok ? '✓' : '✗', Number.isNaN(r.maxAbsError) ? '—' : r.maxAbsError.toExponential(2), r.message]) {
    const cell = document.createElement('td');
    cell.textContent = text;
    row.append(cell);
  }
  body.append(row);
}

async function openDevice(): Promise<{ device: GPUDevice; adapter: string }> {
  if (!navigator.gpu) throw new Error('navigator.gpu is missing: this browser offers no WebGPU');
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('navigator.gpu.requestAdapter() returned no adapter');
  const device = await adapter.requestDevice({
    label: 'lab kernel check',
    requiredLimits: { maxComputeInvocationsPerWorkgroup: Math.min(256, adapter.limits.maxComputeInvocationsPerWorkgroup) },
  });
  const { vendor, architecture, device: name, description } = adapter.info;
  return { device, adapter: [vendor, architecture, name, description].filter((s) => s).join(' / ') || 'unnamed adapter' };
}

async function main(): Promise<void> {
  let adapter: string | null = null;
  try {
    const opened = await openDevice();
    adapter = opened.adapter;
    const checks = kernelChecks({ maxElements: BROWSER_MAX_ELEMENTS });
    status.textContent = `Running ${checks.length} cases on ${adapter}…`;
    const gpu = new GpuContext(opened.device);
    const t0 = performance.now();
    const results = await runKernelChecks(gpu, checks, addRow);
    const failed = results.filter((r) => !r.ok).length;
    status.textContent = `${results.length - failed} of ${results.length} cases passed on ${adapter} in ${((performance.now() - t0) / 1000).toFixed(1)} s.`;
    window.__kernelCheck = { adapter, results };
  } catch (e) {
    const error = (e as Error).message ?? String(e);
    status.textContent = `No kernel checks ran: ${error}`;
    window.__kernelCheck = { adapter, results: [], error };
  }
}

void main();
