// The user's own text for a Hugging Face folder's model: pasted, dropped or picked (.txt, or
// .jsonl with a `text` field per line), or the bundled public-domain text. The folder's tokenizer
// cuts it into windows that are dealt disjointly to calibration and evaluation; the split is shown
// so the user can see that no evaluated window was calibrated on.
import { useId, useRef, useState, type DragEvent } from 'react';
import { bundledText, folderWindowLength, textOfFile, applyText } from '../hfController';
import { useLab } from '../store';
import { Field } from './Field';

const MAX_LISTED = 12;

function windowList(windows: number[]): string {
  const shown = windows.slice(0, MAX_LISTED).join(', ');
  return windows.length > MAX_LISTED ? `${shown}, … (${windows.length - MAX_LISTED} more)` : shown;
}

function SplitSummary() {
  const textData = useLab((s) => s.textData);
  const split = textData.split;
  if (!split || textData.status === 'splitting') return null;
  const windows = split.calibWindows.length + split.evalWindows.length;
  return (
    <div className="text-split" data-testid="text-split" data-calib={split.calibWindows.length} data-eval={split.evalWindows.length} data-tokens={split.tokens} data-seq-len={split.seqLen}>
      <p>
        {textData.source}: {split.tokens.toLocaleString('en-US')} tokens → <strong>{windows} windows</strong> of {split.masked ? `${split.seqLen} tokens, [CLS] and [SEP] included` : `${split.seqLen} + 1 tokens`}
        {split.leftOver > 0 && ` (${split.leftOver} tokens left over)`}.
      </p>
      <ul>
        <li data-testid="split-calib">
          Calibration: {split.calibWindows.length} windows ({Math.round((100 * split.calibWindows.length) / windows)} %): {windowList(split.calibWindows)}
        </li>
        <li data-testid="split-eval">
          Evaluation: {split.evalWindows.length} windows: {windowList(split.evalWindows)};{' '}
          {split.masked ? (
            <span data-testid="masked-positions" data-positions={split.masked.positions}>
              {split.masked.positions} positions chosen for masking by BERT’s rule (15 %; of them 80 % [MASK], 10 % a random token, 10 % kept, as transformers’ DataCollatorForLanguageModeling)
            </span>
          ) : (
            `their targets spell ${split.evalBytes.toLocaleString('en-US')} bytes`
          )}
        </li>
      </ul>
      <p className="muted">Disjoint: no window is in both sets (dealt by a seeded shuffle, seed 0).</p>
      {split.samplesCappedTo !== undefined && (
        <p className="notice" data-testid="samples-capped">
          The recipe’s calibration samples were lowered to {split.samplesCappedTo}: all the calibration windows this text gives.
        </p>
      )}
    </div>
  );
}

export function TextPanel() {
  const ids = useId();
  const hf = useLab((s) => s.model.hf);
  const textData = useLab((s) => s.textData);
  const loadId = useLab((s) => s.model.loadId);
  const [text, setText] = useState('');
  const [source, setSource] = useState<string>();
  const [seqLen, setSeqLen] = useState<number>();
  const [readError, setReadError] = useState<string>();
  const fileInput = useRef<HTMLInputElement>(null);
  const [shownFor, setShownFor] = useState(loadId);
  if (shownFor !== loadId) {
    // Another model loaded: its window length default applies.
    setShownFor(loadId);
    setSeqLen(undefined);
  }
  if (!hf?.tokenizer) return null;
  const windowLength = seqLen ?? folderWindowLength();
  const context = hf.contextLength;
  const lengthError = !Number.isInteger(windowLength) || windowLength < 2 ? 'A whole number of tokens, at least 2.' : context !== undefined && windowLength > context ? `At most the model’s context, ${context} tokens.` : undefined;
  const busy = textData.status === 'splitting';

  async function readFile(file: File): Promise<void> {
    setReadError(undefined);
    try {
      setText(await textOfFile(file));
      setSource(file.name);
    } catch (e) {
      setReadError((e as Error).message);
    }
  }

  function onDrop(e: DragEvent<HTMLElement>) {
    e.preventDefault();
    e.stopPropagation(); // a text file dropped here is text, not a model for the page-wide drop
    const file = e.dataTransfer.files[0];
    if (file) void readFile(file);
  }

  const label = source ?? `pasted text, ${text.length.toLocaleString('en-US')} characters`;
  return (
    <section className="panel text-panel" aria-labelledby={`${ids}-title`} data-testid="text-panel" onDragOver={(e) => e.preventDefault()} onDrop={onDrop}>
      <h2 id={`${ids}-title`}>Your data</h2>
      <p className="muted">
        Evaluate and calibrate {hf.folder} on text of your own, tokenized by its {hf.tokenizer.file}{hf.config?.family === 'bert' ? ': an encoder is measured by masked-token accuracy, not perplexity' : ''}. Paste it, drop a .txt or .jsonl (a “text” field per line) here, or use the bundled public-domain text.
      </p>
      <Field label="Text">
        {(props) => (
          <textarea
            {...props}
            rows={5}
            value={text}
            data-testid="user-text"
            onChange={(e) => {
              setText(e.target.value);
              setSource(undefined);
            }}
          />
        )}
      </Field>
      <div className="row">
        <button type="button" onClick={() => fileInput.current?.click()}>
          Open .txt or .jsonl…
        </button>
        <button
          type="button"
          onClick={() => {
            setReadError(undefined);
            bundledText().then(
              (t) => {
                setText(t);
                setSource('the bundled KJV text');
              },
              (e: Error) => setReadError(e.message),
            );
          }}
        >
          Use the bundled text
        </button>
      </div>
      <input ref={fileInput} type="file" accept=".txt,.jsonl,text/plain" hidden data-testid="text-file-input" onChange={(e) => {
        const file = e.target.files?.[0];
        e.target.value = '';
        if (file) void readFile(file);
      }} />
      <Field label="Window length (tokens)" explain="Each window is this many input tokens plus one: the model predicts every next token in it. 128 by default, or the model’s context when shorter." error={lengthError}>
        {(props) => <input {...props} type="number" min={2} max={context} step={1} value={Number.isNaN(windowLength) ? '' : windowLength} onChange={(e) => setSeqLen(e.target.valueAsNumber)} />}
      </Field>
      <div className="row">
        <button type="button" className="primary" disabled={busy || text.length === 0 || lengthError !== undefined} onClick={() => void applyText(text, label, windowLength)}>
          Use this text
        </button>
        {busy && <span className="muted">Tokenizing…</span>}
      </div>
      {(readError || textData.status === 'error') && (
        <p className="error" role="alert" data-testid="text-error">
          {readError ?? textData.message}
        </p>
      )}
      <SplitSummary />
    </section>
  );
}
