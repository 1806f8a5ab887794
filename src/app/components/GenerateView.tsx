// Teaching view for a causal LM: one prompt continued by the dense model and, when a run is
// given, by its compressed model, side by side, with the point where the two texts part marked.
// Greedy decoding shows what compression changed deterministically; seeded sampling shows it on
// text that looks like the model's own, reproducibly (same seed, same text).
import { useEffect, useId, useRef, useState } from 'react';
import { firstDivergence, type DecodingStrategy } from '../../core/eval/generate';
import type { TextCodec } from '../textCodec';
import { Cancelled, type Progress } from '../../core/job';
import type { GenerateResult, ModelTarget } from '../../../workers/protocol';
import { sessionSettings, type TeachingRuntime } from './teachingRuntime';
import './teaching.css';

export interface GenerateViewProps {
  runtime: TeachingRuntime;
  /** The model's tokenizer: the bundled LM's characters (charCodec) or a folder's tokenizer.json (folderCodec). */
  codec: TextCodec;
  /** The model's context window, e.g. cardContextLength(card). */
  contextLength: number;
  /** The run whose compressed model is compared; without it only the dense model generates. */
  runId?: string;
  /** How the compressed column is titled, e.g. "Wanda 50 %"; "Compressed model" by default. */
  runLabel?: string;
  /** The prompt the box opens with; "And God said" (the bundled KJV model) by default. */
  initialPrompt?: string;
}

type ColumnState =
  | { status: 'waiting' }
  | { status: 'running'; progress?: Progress }
  /** `text`: the generated ids decoded; `shared`: the part before the first token that differs from dense. */
  | { status: 'done'; result: GenerateResult; text: string; shared?: string }
  | { status: 'cancelled' }
  | { status: 'error'; message: string };

interface Shown {
  prompt: string;
  /** The run the compressed column belongs to; hidden once the view is given another run. */
  runId?: string;
  dense: ColumnState;
  compressed?: ColumnState;
}

type ColumnKey = 'dense' | 'compressed';

const MAX_NEW_TOKENS = 400;

export function GenerateView({ runtime, codec, contextLength, runId, runLabel, initialPrompt = 'And God said' }: GenerateViewProps) {
  const ids = useId();
  const unit = codec.unit;
  const [prompt, setPrompt] = useState(initialPrompt);
  const [maxNewTokens, setMaxNewTokens] = useState(80);
  const [sampled, setSampled] = useState(false);
  const [temperature, setTemperature] = useState(0.8);
  const [topK, setTopK] = useState(10);
  const [seed, setSeed] = useState(1);
  const [shown, setShown] = useState<Shown>();
  // Each Generate press gets a number; a response for an older press is dropped (stale).
  const request = useRef(0);
  const activeJob = useRef<number | undefined>(undefined);

  useEffect(
    () => () => {
      request.current++;
      if (activeJob.current !== undefined) runtime.worker.cancel(activeJob.current);
    },
    [runtime.worker],
  );

  const promptProblems = codec.promptProblems(prompt);
  const problems = [
    prompt.length === 0 && 'Type a prompt: the model needs at least one character to continue.',
    ...promptProblems,
    !(Number.isInteger(maxNewTokens) && maxNewTokens >= 1 && maxNewTokens <= MAX_NEW_TOKENS) && `Length must be a whole number from 1 to ${MAX_NEW_TOKENS}.`,
    sampled && !(temperature > 0 && temperature <= 5) && 'Temperature must be above 0 and at most 5.',
    sampled && !(Number.isInteger(topK) && topK >= 0) && `Top-k must be a whole number (0 keeps every ${unit}).`,
    sampled && !Number.isInteger(seed) && 'Seed must be a whole number.',
  ].filter((p): p is string => typeof p === 'string');
  const running = shown !== undefined && [shown.dense, shown.compressed].some((c) => c?.status === 'running' || c?.status === 'waiting');

  async function run(): Promise<void> {
    const mine = ++request.current;
    let promptIds: number[];
    try {
      promptIds = await codec.encode(prompt);
    } catch (e) {
      setShown({ prompt, runId, dense: { status: 'error', message: (e as Error).message } });
      return;
    }
    if (mine !== request.current) return;
    if (promptIds.length === 0) {
      setShown({ prompt, runId, dense: { status: 'error', message: 'The prompt gives no tokens: type some text.' } });
      return;
    }
    const strategy: DecodingStrategy = sampled ? { kind: 'sample', temperature, topK: topK > 0 ? topK : undefined, seed } : { kind: 'greedy' };
    const columns: [ColumnKey, ModelTarget][] = [['dense', 'dense'], ...(runId ? [['compressed', { runId }] as [ColumnKey, ModelTarget]] : [])];
    setShown({ prompt, runId, dense: { status: 'running' }, compressed: runId ? { status: 'waiting' } : undefined });
    const update = (key: ColumnKey, state: ColumnState) => {
      if (mine === request.current) setShown((s) => s && { ...s, [key]: state });
    };
    let denseIds: number[] | undefined;
    for (const [key, target] of columns) {
      if (mine !== request.current) return;
      update(key, { status: 'running' });
      const job = runtime.worker.generate({ target, promptIds, maxNewTokens, contextLength, strategy, ...sessionSettings(runtime) }, (progress) => update(key, { status: 'running', progress }));
      activeJob.current = job.jobId;
      try {
        const result = await job.done;
        const generated = result.generation.ids;
        const text = await codec.decode(generated);
        // Where this text parts from the dense one, in tokens, decoded as text up to there.
        const from = denseIds && key === 'compressed' ? firstDivergence(denseIds, generated) : undefined;
        const shared = from === undefined ? undefined : await codec.decode(generated.slice(0, from));
        if (key === 'dense') denseIds = generated;
        update(key, { status: 'done', result, text, ...(shared !== undefined ? { shared } : {}) });
      } catch (e) {
        if (e instanceof Cancelled) {
          for (const [rest] of columns.slice(columns.findIndex(([k]) => k === key))) update(rest, { status: 'cancelled' });
          return;
        }
        update(key, { status: 'error', message: (e as Error).message });
      } finally {
        activeJob.current = undefined;
      }
    }
  }

  function cancel(): void {
    if (activeJob.current !== undefined) runtime.worker.cancel(activeJob.current);
  }

  const compressedShown = shown?.compressed && shown.runId === runId ? shown.compressed : undefined;
  const denseIds = shown?.dense.status === 'done' ? shown.dense.result.generation.ids : undefined;
  return (
    <section className="panel teach-generate" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`}>Generate text</h2>
      <p className="muted">
        The model continues your prompt one {unit} at a time, seeing at most the last {contextLength} {unit}s.
        {runId ? ' The same prompt goes to the dense and the compressed model.' : ' Compress the model to compare its text with the dense one.'}
      </p>
      <form
        className="teach-form"
        noValidate // the problems list below is the one place that says what is wrong
        onSubmit={(e) => {
          e.preventDefault();
          if (problems.length === 0 && !running) void run();
        }}
      >
        <label className="field teach-prompt">
          Prompt
          <textarea value={prompt} rows={2} onChange={(e) => setPrompt(e.target.value)} aria-invalid={promptProblems.length > 0 || prompt.length === 0} aria-describedby={`${ids}-problems`} />
        </label>
        <div className="fields">
          <label className="field">
            New {unit}s
            <input type="number" min={1} max={MAX_NEW_TOKENS} value={maxNewTokens} onChange={(e) => setMaxNewTokens(e.target.valueAsNumber)} />
          </label>
          <fieldset className="teach-mode">
            <legend>Decoding</legend>
            <label className="field check">
              <input type="radio" name={`${ids}-mode`} checked={!sampled} onChange={() => setSampled(false)} />
              Greedy (most likely {unit})
            </label>
            <label className="field check">
              <input type="radio" name={`${ids}-mode`} checked={sampled} onChange={() => setSampled(true)} />
              Sampled (seeded)
            </label>
          </fieldset>
          {sampled && (
            <>
              <label className="field">
                Temperature
                <input type="number" min={0.05} max={5} step="any" value={temperature} onChange={(e) => setTemperature(e.target.valueAsNumber)} />
              </label>
              <label className="field">
                Top-k (0 = all)
                <input type="number" min={0} value={topK} onChange={(e) => setTopK(e.target.valueAsNumber)} />
              </label>
              <label className="field">
                Seed
                <input type="number" step={1} value={seed} onChange={(e) => setSeed(e.target.valueAsNumber)} />
              </label>
            </>
          )}
        </div>
        <ul id={`${ids}-problems`} className="problems" aria-live="polite">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
        <div className="actions">
          <button type="submit" className="primary" disabled={problems.length > 0 || running}>
            Generate
          </button>
          {running && (
            <button type="button" onClick={cancel}>
              Cancel
            </button>
          )}
        </div>
      </form>
      {shown && (
        <div className={compressedShown ? 'teach-columns two' : 'teach-columns'}>
          <Continuation title="Dense model" prompt={shown.prompt} state={shown.dense} unit={unit} />
          {compressedShown && (
            <Continuation
              title={runLabel ?? 'Compressed model'}
              prompt={shown.prompt}
              state={compressedShown}
              unit={unit}
              divergence={denseIds && compressedShown.status === 'done' ? { from: firstDivergence(denseIds, compressedShown.result.generation.ids) } : undefined}
            />
          )}
        </div>
      )}
    </section>
  );
}

interface ContinuationProps {
  title: string;
  prompt: string;
  state: ColumnState;
  unit: TextCodec['unit'];
  /** Set once both texts are in: where this one first differs from the dense text (undefined: never). */
  divergence?: { from: number | undefined };
}

function Continuation({ title, prompt, state, unit, divergence }: ContinuationProps) {
  const headingId = useId();
  return (
    <section className="teach-column" aria-labelledby={headingId} aria-busy={state.status === 'running' || state.status === 'waiting'}>
      <h3 id={headingId}>{title}</h3>
      {state.status === 'waiting' && <p className="muted">Waiting for the dense model…</p>}
      {state.status === 'running' && (
        <div className="progress">
          <progress value={state.progress?.done ?? 0} max={state.progress?.total ?? 1} aria-label={`${title}: ${unit}s generated`} />
          <span>{state.progress ? `${state.progress.done}/${state.progress.total}` : 'Starting…'}</span>
        </div>
      )}
      {state.status === 'cancelled' && <p className="notice">Cancelled.</p>}
      {state.status === 'error' && (
        <p className="error" role="alert">
          {state.message}
        </p>
      )}
      {state.status === 'done' && <GeneratedText prompt={prompt} text={state.text} shared={state.shared} unit={unit} result={state.result} divergence={divergence} />}
    </section>
  );
}

interface GeneratedTextProps {
  prompt: string;
  /** The generated ids decoded. */
  text: string;
  /** The generated ids before the first one that differs from dense, decoded (set once the texts part). */
  shared?: string;
  unit: TextCodec['unit'];
  result: GenerateResult;
  divergence?: { from: number | undefined };
}

function GeneratedText({ prompt, text, shared, unit, result, divergence }: GeneratedTextProps) {
  const { generation, backend, generateMs } = result;
  // The shared part is decoded on its own: a token is not always one character.
  const split = shared !== undefined && text.startsWith(shared) ? shared.length : text.length;
  const meanProbability = generation.probabilities.reduce((a, b) => a + b, 0) / Math.max(1, generation.probabilities.length);
  return (
    <>
      <p className="teach-text">
        <span className="teach-sr-only">Prompt: </span>
        <span className="teach-prompt-text">{prompt}</span>
        <span className="teach-sr-only"> Generated: </span>
        <mark className="teach-generated">
          {text.slice(0, split)}
          {split < text.length && <span className="teach-diverged">{text.slice(split)}</span>}
        </mark>
      </p>
      {divergence && (
        <p className="muted" data-testid="divergence">
          {divergence.from === undefined
            ? 'Identical to the dense model’s text.'
            : `Departs from the dense model’s text at generated ${unit} ${divergence.from + 1} (wavy underline from there on).`}
        </p>
      )}
      <p className="muted">
        {generation.ids.length} {unit}s in {(generateMs / 1000).toFixed(2)} s on {backend.used === 'webgpu' ? 'WebGPU' : 'WASM'}; mean probability of the chosen {unit}s{' '}
        {meanProbability.toFixed(2)}.
      </p>
      {backend.fallbackReason && <p className="notice">WebGPU not used: {backend.fallbackReason}</p>}
    </>
  );
}
