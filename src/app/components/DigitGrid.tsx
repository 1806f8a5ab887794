// Teaching view for an image classifier: a page of evaluation images, each with the dense
// model's prediction and, when a run is given, its compressed model's, so the few answers that
// compression changed can be seen, not only counted. Wrong and changed answers are marked by a
// border, an icon and a word, never by colour alone; every cell reads as plain text.
import { useEffect, useId, useMemo, useState } from 'react';
import type { ImageDataset } from '../../core/eval/datasets';
import type { ImagePrediction } from '../../core/eval/predict';
import { Cancelled } from '../../core/job';
import type { BackendReport } from '../../core/eval/runner';
import type { ModelTarget } from '../../../workers/protocol';
import { digitImageSvg } from '../charts/digitImage';
import { D3Chart } from './D3Chart';
import { sessionSettings, type TeachingRuntime } from './teachingRuntime';
import './teaching.css';

export interface DigitGridProps {
  runtime: TeachingRuntime;
  /** The evaluation set (its preprocessing travels with it and is applied in the worker). */
  dataset: ImageDataset;
  /** The run whose compressed model is compared; without it only the dense model's answers show. */
  runId?: string;
  /** How the compressed model is named, e.g. "Wanda 50 %"; "compressed" by default. */
  runLabel?: string;
  /** Images per page; 48 by default. */
  pageSize?: number;
}

type Loaded =
  | { status: 'loading' }
  | { status: 'done'; dense: ImagePrediction[]; compressed?: ImagePrediction[]; fallbackReason?: string }
  | { status: 'cancelled' }
  | { status: 'error'; message: string };

const THUMB_PX = 40;

export function DigitGrid({ runtime, dataset, runId, runLabel, pageSize = 48 }: DigitGridProps) {
  const ids = useId();
  const [page, setPage] = useState(0);
  const [onlyChanged, setOnlyChanged] = useState(false);
  const [loaded, setLoaded] = useState<Loaded>({ status: 'loading' });
  const total = dataset.images.length;
  const start = page < total ? page : 0; // a smaller set than the last one starts over
  const end = Math.min(total, start + pageSize);
  const maxValue = useMemo(() => dataset.images.reduce((m, image) => image.reduce((a, b) => Math.max(a, b), m), 0) || 1, [dataset]);
  const { worker, backend, numThreads, wasmPaths } = runtime;

  useEffect(() => {
    let live = true;
    let pendingJob: number | undefined;
    const indices = Array.from({ length: end - start }, (_, i) => start + i);
    const targets: ModelTarget[] = runId ? ['dense', { runId }] : ['dense'];
    setLoaded({ status: 'loading' });
    void (async () => {
      const answers: ImagePrediction[][] = [];
      let report: BackendReport | undefined;
      try {
        for (const target of targets) {
          const job = worker.predict({ target, dataset, indices, ...sessionSettings({ worker, backend, numThreads, wasmPaths }) });
          pendingJob = job.jobId;
          const result = await job.done;
          pendingJob = undefined;
          if (!live) return;
          answers.push(result.predictions);
          report = result.backend;
        }
        setLoaded({ status: 'done', dense: answers[0], compressed: answers[1], fallbackReason: report?.fallbackReason });
      } catch (e) {
        if (live) setLoaded(e instanceof Cancelled ? { status: 'cancelled' } : { status: 'error', message: (e as Error).message });
      }
    })();
    return () => {
      live = false;
      if (pendingJob !== undefined) worker.cancel(pendingJob);
    };
  }, [worker, backend, numThreads, wasmPaths, dataset, runId, start, end]);

  const compressedName = runLabel ?? 'compressed';
  const rows = loaded.status === 'done' ? loaded.dense.map((dense, i) => ({ dense, compressed: loaded.compressed?.[i] })) : [];
  const changed = rows.filter((r) => r.compressed && r.compressed.predicted !== r.dense.predicted);
  const correct = (key: 'dense' | 'compressed') => rows.filter((r) => r[key] && r[key].predicted === r[key].label).length;
  const visible = onlyChanged ? changed : rows;
  const hasCompressed = loaded.status === 'done' && loaded.compressed !== undefined;

  return (
    <section className="panel teach-digits" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`}>Predictions, image by image</h2>
      <div className="pager">
        <button type="button" disabled={start === 0} onClick={() => setPage(Math.max(0, start - pageSize))}>
          Previous {pageSize}
        </button>
        <span>
          Images {start + 1}–{end} of {total}
        </span>
        <button type="button" disabled={end >= total} onClick={() => setPage(start + pageSize)}>
          Next {pageSize}
        </button>
        {runId && (
          <label className="field check">
            <input type="checkbox" checked={onlyChanged} onChange={(e) => setOnlyChanged(e.target.checked)} />
            Only changed predictions
          </label>
        )}
      </div>
      <p className="teach-summary" aria-live="polite" data-testid="digit-summary">
        {loaded.status === 'loading' && 'Running the models on these images…'}
        {loaded.status === 'done' &&
          (hasCompressed
            ? `The ${compressedName} model changes ${changed.length} of ${rows.length} predictions (dense: ${correct('dense')} of ${rows.length} correct; ${compressedName}: ${correct('compressed')} correct).`
            : `Dense model: ${correct('dense')} of ${rows.length} correct.`)}
        {loaded.status === 'cancelled' && 'Cancelled.'}
      </p>
      {loaded.status === 'error' && (
        <p className="error" role="alert">
          {loaded.message}
        </p>
      )}
      {loaded.status === 'done' && loaded.fallbackReason && <p className="notice">WebGPU not used: {loaded.fallbackReason}</p>}
      {onlyChanged && loaded.status === 'done' && changed.length === 0 && <p className="muted">No prediction changed on this page.</p>}
      <ul className="teach-digit-grid" aria-label={`Images ${start + 1} to ${end}, with each model's prediction`}>
        {visible.map(({ dense, compressed }) => (
          <DigitCell key={dense.index} image={dataset.images[dense.index]} shape={dataset.shape} maxValue={maxValue} dense={dense} compressed={compressed} compressedName={compressedName} />
        ))}
      </ul>
    </section>
  );
}

interface DigitCellProps {
  image: number[];
  shape: number[];
  maxValue: number;
  dense: ImagePrediction;
  compressed?: ImagePrediction;
  compressedName: string;
}

function DigitCell({ image, shape, maxValue, dense, compressed, compressedName }: DigitCellProps) {
  const changed = compressed !== undefined && compressed.predicted !== dense.predicted;
  const wrong = dense.predicted !== dense.label || (compressed !== undefined && compressed.predicted !== compressed.label);
  const classes = ['teach-digit', wrong && 'wrong', changed && 'changed'].filter(Boolean).join(' ');
  return (
    <li className={classes} data-index={dense.index}>
      <D3Chart render={(doc) => digitImageSvg(image, shape, { maxValue, size: THUMB_PX, label: `image ${dense.index + 1}` }, doc)} deps={[image, shape, maxValue]} />
      <span className="teach-digit-label">
        Image {dense.index + 1}: label <strong>{dense.label}</strong>
      </span>
      <Answer who="dense" prediction={dense} />
      {compressed && <Answer who={compressedName} prediction={compressed} />}
      {changed && (
        <span className="teach-badge">
          <span aria-hidden="true">⇄ </span>changed
        </span>
      )}
    </li>
  );
}

function Answer({ who, prediction }: { who: string; prediction: ImagePrediction }) {
  const right = prediction.predicted === prediction.label;
  return (
    <span className={right ? 'teach-answer' : 'teach-answer wrong'} title={`${who}: ${prediction.predicted} with probability ${prediction.probability.toFixed(2)}`}>
      {who}: {prediction.predicted} <span aria-hidden="true">{right ? '✓' : '✗'}</span>
      {right ? <span className="teach-sr-only"> correct</span> : ' wrong'}
      <span className="teach-sr-only">, probability {prediction.probability.toFixed(2)}</span>
    </span>
  );
}
