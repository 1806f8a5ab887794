// "Does sparsity buy speed?": the dense, 2:4 and 50 % block-sparse (1×4) WGSL matmul kernels,
// one tiling for all, timed on this browser's WebGPU adapter for the bundled LM's layer shapes
// (src/core/gpu/sparseSpeed.ts in a worker). Measured numbers only, with the adapter's name; a
// software adapter is named as one, and no WebGPU is said plainly.
import { useState } from 'react';
import { BUNDLED_LM_SHAPES, type ShapeTiming, type SparseLayout } from '../../core/gpu/sparseSpeed';
import { measureInWorker, NoWebGpu } from '../../services/sparseSpeed';

/** What the panel compares: the dense baseline and the two sparse formats at 50 %. */
const LAYOUTS: SparseLayout[] = ['dense', '2:4', 'block 1×4'];
const LAYOUT_IDS: Record<string, string> = { dense: 'dense', '2:4': 'nm24', 'block 1×4': 'block' };
/** Short enough for a page: about a second per shape on a software adapter. */
const OPTIONS = { layouts: LAYOUTS, minMs: 150, minSamples: 3, sampleMs: 10 };

type State = { kind: 'idle' } | { kind: 'running' } | { kind: 'done' } | { kind: 'failed'; message: string; unavailable: boolean };

const tokensPerSecond = (value: number) => Math.round(value).toLocaleString('en-US');

export function SparseSpeedPanel() {
  const [state, setState] = useState<State>({ kind: 'idle' });
  const [adapter, setAdapter] = useState<{ name: string; software: boolean }>();
  const [rows, setRows] = useState<ShapeTiming[]>([]);

  const run = () => {
    setState({ kind: 'running' });
    setRows([]);
    setAdapter(undefined);
    measureInWorker(BUNDLED_LM_SHAPES, OPTIONS, {
      onAdapter: (name, software) => setAdapter({ name, software }),
      onShape: (timing) => setRows((previous) => [...previous, timing]),
    }).then(
      () => setState({ kind: 'done' }),
      (e: Error) => setState({ kind: 'failed', message: e.message, unavailable: e instanceof NoWebGpu && e.unavailable }),
    );
  };

  return (
    <section aria-label="Does sparsity buy speed?" data-testid="sparse-speed">
      <h3>Does sparsity buy speed?</h3>
      <p className="muted">
        Pruned weights are stored dense in ONNX, so ONNX Runtime computes every zero. Here three WebGPU kernels with the same tiling multiply the bundled LM’s layer shapes at 128 tokens: dense, 2:4 (2 values and two 2-bit positions per group of 4) and 50 % of 1×4 blocks (SparseByteNN’s groups). Tokens per second, measured on this browser now; higher is faster.
      </p>
      <button type="button" data-testid="sparse-speed-run" onClick={run} disabled={state.kind === 'running'}>
        {state.kind === 'running' ? 'Measuring…' : rows.length > 0 ? 'Measure again' : 'Measure on this browser'}
      </button>
      {adapter && (
        <p data-testid="sparse-speed-adapter">
          Adapter: <strong>{adapter.name}</strong>
          {adapter.software && <span> — a software adapter: WebGPU runs on the CPU here, so these numbers say nothing about a real GPU.</span>}
        </p>
      )}
      {state.kind === 'failed' && (
        <p role="alert" data-testid="sparse-speed-error">
          {state.unavailable ? `No WebGPU in this browser, so nothing was measured: ${state.message}.` : `The measurement failed: ${state.message}`}
        </p>
      )}
      {rows.length > 0 && (
        <table className="layer-table" data-testid="sparse-speed-table">
          <caption>Tokens per second for one layer (measured; ratio against dense in brackets)</caption>
          <thead>
            <tr>
              <th scope="col">layer (C_out × C_in)</th>
              {LAYOUTS.map((layout) => (
                <th scope="col" key={layout}>
                  {layout === 'block 1×4' ? 'block 1×4, 50 %' : layout === '2:4' ? '2:4 (50 %)' : 'dense'}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map(({ shape, timings }) => (
              <tr key={shape.label} data-testid="sparse-speed-row">
                <th scope="row">
                  {shape.label} {shape.outFeatures} × {shape.inFeatures}
                </th>
                {timings.map((t) => (
                  <td key={t.layout} data-testid={`tps-${LAYOUT_IDS[t.layout]}`} data-value={t.tokensPerSecond}>
                    {tokensPerSecond(t.tokensPerSecond)}
                    {t.layout !== 'dense' && <span className="muted"> ({(timings[0].ms / t.ms).toFixed(2)}×)</span>}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {state.kind === 'done' && <p data-testid="sparse-speed-verdict">{verdict(rows)}</p>}
    </section>
  );
}

/** The answer in one sentence, from the measured rows. */
function verdict(rows: ShapeTiming[]): string {
  const sparse = rows.flatMap(({ shape, timings }) => timings.slice(1).map((t) => ({ what: `${t.layout} on ${shape.label}`, speedup: timings[0].ms / t.ms })));
  const faster = sparse.filter((s) => s.speedup > 1);
  const best = Math.max(...sparse.map((s) => s.speedup)).toFixed(2);
  if (faster.length === 0) return `Here, no: neither sparse kernel beat the dense one on any layer shape (best ${best}× the dense speed).`;
  if (faster.length === sparse.length) return `Here, yes: both sparse kernels beat the dense one on every layer shape (up to ${best}× the dense speed).`;
  return `Here, sometimes: faster than dense for ${faster.map((s) => s.what).join(', ')} (up to ${best}×).`;
}
