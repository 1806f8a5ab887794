// A share link opened in this page: its recorded numbers at once, marked "as shared — not yet
// reproduced here", and Reproduce, which reruns the recipe and compares the weights hash. For a
// user's own model it asks for the file and checks its hash first. Everything from the link is
// rendered as React text: a link is data, never markup.
import { useId } from 'react';
import type { SharedResult as SharedNumbers } from '../../core/experiments';
import { exact, formatChange, formatMetricValue, shortBytes } from '../format';
import { metricMeanings } from '../glossary';
import { checkSharedFile, closeShared, reproduceShared } from '../shareController';
import type { SharedState } from '../share';
import { useLab } from '../store';
import './share.css';

/** The link's refusal: one sentence, in a banner that screen readers announce. */
function LinkErrorBanner({ message }: { message: string }) {
  return (
    <div className="error-banner" role="alert" data-testid="link-error">
      <span>
        <strong>Link not opened.</strong> {message} The lab opened as usual.
      </span>
      <button type="button" aria-label="Dismiss" onClick={() => useLab.setState({ linkError: undefined })}>
        ×
      </button>
    </div>
  );
}

function RecordedNumbers({ result }: { result: SharedNumbers }) {
  const meaning = metricMeanings[result.metric];
  const change = formatChange(result.dense, result.value, meaning.kind);
  const delta = (v: number) => (meaning.kind === 'ratio' ? `${v >= 0 ? '+' : '−'}${Math.abs(v * 100).toFixed(2)} pp` : `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(3)}`);
  return (
    <table className="metric-table shared-numbers" data-testid="shared-numbers">
      <tbody>
        <tr data-shared="metric" data-dense={result.dense} data-value={result.value}>
          <th scope="row">{meaning.label}</th>
          <td title={exact(result.dense)}>dense {formatMetricValue(result.dense, meaning.kind)}</td>
          <td title={exact(result.value)} data-testid="shared-value">
            → {formatMetricValue(result.value, meaning.kind)}
          </td>
          <td className="muted">
            {change.absolute} ({change.relative})
          </td>
        </tr>
        {result.interval && (
          <tr data-shared="interval">
            <th scope="row">95 % interval of the change</th>
            <td colSpan={3}>
              {delta(result.interval.low)} to {delta(result.interval.high)} <span className="muted">(paired bootstrap)</span>
            </td>
          </tr>
        )}
        <tr data-shared="size">
          <th scope="row">File size</th>
          <td title={`${result.denseSizeBytes} bytes`}>dense {shortBytes(result.denseSizeBytes)}</td>
          <td title={`${result.sizeBytes} bytes`} colSpan={2}>
            → {shortBytes(result.sizeBytes)} measured
          </td>
        </tr>
        {result.bitsPerWeight !== undefined && (
          <tr data-shared="bits">
            <th scope="row">Bits per weight</th>
            <td colSpan={3}>{result.bitsPerWeight.toFixed(2)} in the quantized layers (analytic)</td>
          </tr>
        )}
        <tr data-shared="hash">
          <th scope="row">Weights SHA-256</th>
          <td colSpan={3}>
            <code data-testid="shared-sha" title={result.weightsSha256}>
              {result.weightsSha256.slice(0, 16)}…
            </code>
          </td>
        </tr>
        <tr data-shared="provenance">
          <th scope="row">Made with</th>
          <td colSpan={3}>
            lab {result.labVersion}, layer jobs on {result.compute === 'webgpu' ? 'WebGPU' : 'the CPU'}
          </td>
        </tr>
      </tbody>
    </table>
  );
}

/** A link made with the user's own model: pick the file; its hash is checked before it loads. */
function FilePrompt({ shared }: { shared: SharedState }) {
  const inputId = useId();
  if (shared.payload.model.kind !== 'file') return null;
  const { name, sha256 } = shared.payload.model;
  return (
    <div className="shared-file">
      <label htmlFor={inputId}>
        This link was made with your own model <strong>{name}</strong> (SHA-256 <code>{sha256.slice(0, 12)}…</code>). Pick that file: its hash is checked before anything loads or runs.
      </label>
      <input id={inputId} type="file" accept=".onnx,.data,.bin" multiple data-testid="shared-file-input" disabled={shared.model === 'checking'} onChange={(e) => void checkSharedFile(Array.from(e.target.files ?? []))} />
      {shared.model === 'checking' && <p className="muted">Checking the file’s SHA-256…</p>}
    </div>
  );
}

function ReproduceLine({ shared }: { shared: SharedState }) {
  const r = shared.reproduce;
  if (!r) return <p className="muted">Reproduce reruns the recipe here and compares the weights’ SHA-256 with the link’s.</p>;
  if (r.status === 'running') return <p className="muted">Reproducing: running the shared recipe (its progress is in the result panel)…</p>;
  if (r.status === 'failed') return <p className="error">{r.message}</p>;
  const text = r.outcome.text.charAt(0).toUpperCase() + r.outcome.text.slice(1);
  return (
    <p className={r.outcome.match ? 'reproduced' : r.outcome.ok ? 'notice' : 'error'} data-testid="reproduce-outcome" data-match={r.outcome.match} data-ok={r.outcome.ok}>
      {text}.
    </p>
  );
}

function modelLine(shared: SharedState): string {
  const model = shared.payload.model;
  const name = model.kind === 'bundled' ? `the bundled model ${model.id}` : `your model ${model.name}`;
  if (shared.model === 'loading') return `Loading ${name}…`;
  if (shared.model === 'ready') return `Made with ${name}, loaded here; the recipe is in the builder.`;
  return `Made with ${name}.`;
}

export function SharedResultPanel({ shared }: { shared: SharedState }) {
  const titleId = useId();
  const running = shared.reproduce?.status === 'running';
  const result = shared.payload.result;
  const confirmed = shared.reproduce?.status === 'done' && shared.reproduce.outcome.match;
  return (
    <section className="panel shared-result" aria-labelledby={titleId} data-testid="shared-result">
      <h2 id={titleId}>
        Shared run {confirmed ? <span className="shared-badge confirmed">reproduced here</span> : <span className="shared-badge">as shared — not yet reproduced here</span>}
      </h2>
      <p className="muted" data-testid="shared-model">
        {modelLine(shared)}
      </p>
      {shared.message && (
        <p className="error" role="alert" data-testid="shared-message">
          {shared.message}
        </p>
      )}
      {result ? <RecordedNumbers result={result} /> : <p className="muted">The link carries a recipe but no recorded result.</p>}
      <FilePrompt shared={shared} />
      <div className="row">
        <button type="button" disabled={shared.model !== 'ready' || running} onClick={() => void reproduceShared()}>
          {running ? 'Reproducing…' : 'Reproduce'}
        </button>
        <button type="button" onClick={closeShared}>
          Close
        </button>
      </div>
      <div role="status" aria-live="polite">
        <ReproduceLine shared={shared} />
      </div>
    </section>
  );
}

export function SharedResult() {
  const shared = useLab((s) => s.shared);
  const linkError = useLab((s) => s.linkError);
  return (
    <>
      {linkError && <LinkErrorBanner message={linkError} />}
      {shared && <SharedResultPanel shared={shared} />}
    </>
  );
}
