import { useRef } from 'react';
import type { BackendPreference } from '../../core/eval/runner';
import { loadBundled, loadFiles, runEvaluation, setBackend } from '../controller';
import { useLab } from '../store';

export function Header() {
  const bundledIds = useLab((s) => s.bundledIds);
  const source = useLab((s) => s.model.source);
  const backend = useLab((s) => s.backend);
  const busy = useLab((s) => s.model.status === 'loading');
  const fileInput = useRef<HTMLInputElement>(null);
  return (
    <header className="header">
      <h1>Compression Lab</h1>
      <label>
        Bundled model{' '}
        <select
          aria-label="Bundled model"
          value={source?.kind === 'bundled' ? source.id : ''}
          disabled={busy}
          onChange={(e) => e.target.value && void loadBundled(e.target.value)}
        >
          {source?.kind !== 'bundled' && <option value="">—</option>}
          {bundledIds.map((id) => (
            <option key={id} value={id}>
              {id}
            </option>
          ))}
        </select>
      </label>
      <button type="button" disabled={busy} onClick={() => fileInput.current?.click()}>
        Open ONNX file…
      </button>
      <input
        ref={fileInput}
        type="file"
        accept=".onnx,.data,.bin"
        multiple
        hidden
        data-testid="model-file-input"
        onChange={(e) => {
          const files = [...(e.target.files ?? [])];
          e.target.value = '';
          if (files.length > 0) void loadFiles(files);
        }}
      />
      <label>
        Backend{' '}
        <select
          aria-label="Backend"
          value={backend}
          onChange={(e) => {
            setBackend(e.target.value as BackendPreference);
            void runEvaluation();
          }}
        >
          <option value="auto">auto (WebGPU if available)</option>
          <option value="webgpu">WebGPU</option>
          <option value="wasm">WASM (CPU)</option>
        </select>
      </label>
      <span className="hint">or drop an .onnx file anywhere</span>
    </header>
  );
}
