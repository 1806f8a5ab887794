// The model picker and what the page knows about the loaded model at a glance. Provenance (data,
// training command, opsets) lives in the Model tab.
import { useRef, type ChangeEvent } from 'react';
import type { BackendPreference } from '../../core/eval/runner';
import { formatCount } from '../../core/report/format';
import { confirmModelChange, loadBundled, loadFiles, runEvaluation, setBackend } from '../controller';
import { HfFolderSummary } from './HfFolderSummary';
import { shortBytes } from '../format';
import { useLab } from '../store';
import { Field } from './Field';

const confirmWithUser = (question: string) => window.confirm(question);

/** "pruned: 50.0 % … zero (unstructured, 36 layers); made by the lab on …": the first clause stands out. */
function CompressionLine({ description }: { description: string }) {
  const cut = description.indexOf('; ');
  if (cut < 0) return <>{description}</>;
  return (
    <>
      <span className="compressed-head">{description.slice(0, cut)}</span>
      <span className="muted-inline">{description.slice(cut)}</span>
    </>
  );
}

export function ModelPanel() {
  const bundledIds = useLab((s) => s.bundledIds);
  const { source, status, analysis, card, sizeBytes, externalFiles } = useLab((s) => s.model);
  const backend = useLab((s) => s.backend);
  const loadError = useLab((s) => s.loadError);
  const fileInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const pick = (e: ChangeEvent<HTMLInputElement>) => {
    const files = [...(e.target.files ?? [])];
    e.target.value = '';
    if (files.length > 0) void loadFiles(files);
  };
  const busy = status === 'loading';
  return (
    <section className="panel" aria-labelledby="model-title">
      <h2 id="model-title">1 · Model</h2>
      <Field label="Bundled model">
        {(props) => (
          <select {...props} value={source?.kind === 'bundled' ? source.id : ''} disabled={busy} onChange={(e) => e.target.value && confirmModelChange(confirmWithUser) && void loadBundled(e.target.value)}>
            {source?.kind !== 'bundled' && <option value="">(your file)</option>}
            {bundledIds.map((id) => (
              <option key={id} value={id}>
                {id}
              </option>
            ))}
          </select>
        )}
      </Field>
      <div className="row">
        <button type="button" disabled={busy} onClick={() => confirmModelChange(confirmWithUser) && fileInput.current?.click()}>
          Open ONNX files…
        </button>
        <button type="button" disabled={busy} onClick={() => confirmModelChange(confirmWithUser) && folderInput.current?.click()}>
          Open folder…
        </button>
      </div>
      <p className="muted">
        Or drop a Hugging Face export folder on the page: model.onnx (or onnx/model.onnx) with its external data, config.json and tokenizer.json.
      </p>
      <input ref={fileInput} type="file" accept=".onnx,.data,.bin,.onnx_data,.json" multiple hidden data-testid="model-file-input" onChange={pick} />
      {/* webkitdirectory is not in React's types: set as an attribute. */}
      <input ref={(el) => { folderInput.current = el; el?.setAttribute('webkitdirectory', ''); }} type="file" multiple hidden data-testid="model-folder-input" onChange={pick} />
      {loadError && (
        <p className="error" data-testid="load-error-inline">
          Could not load {loadError.fileName} (see the message at the top); the model below is still loaded.
        </p>
      )}
      {busy && <p className="muted">Loading…</p>}
      {analysis && (
        <dl className="kv compact" data-testid="model-summary">
          <dt>Loaded</dt>
          <dd data-testid="model-name">{card ? card.name : source?.kind === 'file' ? source.name : 'model'}</dd>
          <dt>Task</dt>
          <dd title={analysis.taskReason}>{card?.task ?? analysis.task}</dd>
          <dt>Parameters</dt>
          <dd>{formatCount(analysis.totalParams)}</dd>
          <dt>Weights</dt>
          <dd data-testid="model-compression" data-verdict={analysis.compression.verdict} className={analysis.compression.verdict === 'dense' ? undefined : 'compressed'}>
            <CompressionLine description={analysis.compression.description} />
          </dd>
          <dt>File</dt>
          <dd data-testid="model-size" title={sizeBytes !== undefined ? `${sizeBytes} bytes` : undefined}>
            {sizeBytes !== undefined ? `${shortBytes(sizeBytes)} (measured)` : '—'}
            {externalFiles && externalFiles.length > 0 && `, with external data ${externalFiles.join(', ')}`}
          </dd>
        </dl>
      )}
      <HfFolderSummary />
      <Field label="Inference backend" explain="Where ONNX Runtime evaluates the models. Auto uses WebGPU on a hardware GPU and the CPU (WASM) otherwise, and says why.">
        {(props) => (
          <select
            {...props}
            value={backend}
            onChange={(e) => {
              setBackend(e.target.value as BackendPreference);
              void runEvaluation();
            }}
          >
            <option value="auto">auto (hardware GPU if present)</option>
            <option value="webgpu">WebGPU (forced)</option>
            <option value="wasm">WASM (CPU)</option>
          </select>
        )}
      </Field>
    </section>
  );
}
