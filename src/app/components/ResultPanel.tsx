// The result: the dense model's metrics, and the selected run against them — which way is better,
// the change (absolute and relative, coloured), sparsity by one definition, sizes measured or
// labelled as estimates. Progress, errors and downloads sit here too, above the fold.
import type { EvalMetrics } from '../../core/eval/metrics';
import { compressedFileName } from '../../core/recipe';
import { betterHint, changeQuality, measureMeanings } from '../glossary';
import { exact, formatChange, formatMetricValue, percent, seconds, shortBytes } from '../format';
import { metricEntries } from '../metricsView';
import { runDownload } from '../runController';
import { folderDownload } from '../hfController';
import type { IntervalValue, TextMetrics } from '../../core/hf/textMetrics';
import type { MaskedLmMetrics } from '../../core/hf/maskedLm';
import { cancelEvaluation, runEvaluation } from '../controller';
import { selectedRun, useLab, type RunRecord } from '../store';
import { Explain } from './Explain';
import { PinModel, PinnedModel } from './PinModel';
import { RunProgress } from './RunProgress';
import { ShareLink } from './ShareLink';

function BackendLine() {
  const evaluation = useLab((s) => s.evaluation);
  const backend = evaluation.backend;
  if (!backend) return null;
  return (
    <p className="backend-line" data-testid="backend-report">
      Evaluated on <strong data-testid="backend-used">{backend.used === 'webgpu' ? 'WebGPU' : 'WASM (CPU)'}</strong>
      {backend.requested !== backend.used && <> (asked for: {backend.requested})</>}
      {evaluation.evalMs !== undefined && <> in {seconds(evaluation.evalMs)}</>}
      {backend.fallbackReason && (
        <span className="notice" data-testid="backend-fallback">
          {backend.requested === 'auto' ? 'Not on WebGPU: ' : 'WebGPU not used: '}
          {backend.fallbackReason}.
        </span>
      )}
    </p>
  );
}

function Change({ better, from, to, kind }: { better: 'lower' | 'higher' | 'neither'; from: number; to: number; kind: 'ratio' | 'plain' | 'count' }) {
  if (better === 'neither') return <span className="muted">—</span>;
  const quality = changeQuality(better, from, to);
  const { absolute, relative } = formatChange(from, to, kind);
  const word = quality > 0 ? 'better' : quality < 0 ? 'worse' : 'unchanged';
  return (
    <span className={`change ${word}`} data-testid="change">
      {absolute} <span className="rel">({relative})</span> <span className="change-word">{word}</span>
    </span>
  );
}

/** Inference time per token (or image), dense and compressed, measured alike by the worker after the run. */
function InferenceTimeRow({ run }: { run: RunRecord }) {
  const timing = run.timing;
  if (!timing) return null;
  const unit = run.dense.metrics?.task === 'image-classification' ? 'image' : 'token';
  const text = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);
  return (
    <tr data-measure="inference-time">
      <th scope="row">
        Inference time per {unit} <Explain about="inference time" text="Measured in the worker after the run: one evaluation batch of each model, alternating, median of 5 after a warm-up, on the same backend. Pruned weights stored densely run at dense speed; packed MatMulNBits weights use ONNX Runtime's n-bit kernels. npm run bench measures it more carefully." />
      </th>
      {timing.status === 'done' ? (
        <>
          <td title={`${timing.denseMsPerItem} ms`}>{text(timing.denseMsPerItem)}</td>
          <td title={`${timing.runMsPerItem} ms`} data-testid="run-ms-per-item" data-value={timing.runMsPerItem}>
            {text(timing.runMsPerItem)}
          </td>
          <td className="muted">
            {(timing.runMsPerItem / timing.denseMsPerItem).toFixed(2)}× dense, measured on {timing.backend === 'webgpu' ? 'WebGPU' : 'WASM'}
          </td>
        </>
      ) : (
        <td colSpan={3} className="muted">
          {timing.status === 'running' ? 'measuring…' : `not measured: ${timing.message}`}
        </td>
      )}
    </tr>
  );
}

/**
 * Latency per token of one context window (batch 1), dense and compressed, MEASURED by the worker
 * after the run on the backend that ran (src/core/latency); a stage that planned to a speedup shows
 * its prediction beside it.
 */
function LatencyRow({ run }: { run: RunRecord }) {
  const latency = run.report?.latency;
  if (!latency) return null;
  const unit = latency.unit === 'image' ? 'image' : 'token';
  const text = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);
  const backend = latency.backend === 'webgpu' ? 'WebGPU' : 'WASM';
  return (
    <tr data-measure="latency" data-testid="latency-row" data-backend={latency.backend} data-speedup={latency.speedup} data-predicted-speedup={latency.predictedSpeedup}>
      <th scope="row">
        Latency per {unit}, measured{' '}
        <Explain
          about="latency"
          text={`Measured in the worker: one forward pass over a ${latency.seq === 1 ? 'single input' : `${latency.seq}-token window`}, batch 1, median of ${latency.repeats} runs after a warm-up, on ${backend}. The dense model is timed once per model and backend. Only shape changes (fewer heads, neurons, dimensions, ranks) or packed low-bit kernels make a model faster here; zeros stored densely cost the same time.`}
        />
      </th>
      <td title={`${latency.perTokenDenseMs} ms`}>{text(latency.perTokenDenseMs)}</td>
      <td title={`${latency.perTokenCompressedMs} ms`} data-testid="latency-measured" data-value={latency.perTokenCompressedMs}>
        {text(latency.perTokenCompressedMs)}
      </td>
      <td className="muted" data-testid="latency-summary">
        ×{latency.speedup.toFixed(2)} speedup, on {backend}
        {latency.predictedSpeedup !== undefined && (
          <span data-testid="latency-predicted">
            {' '}
            (predicted ×{latency.predictedSpeedup.toFixed(2)})
          </span>
        )}
      </td>
    </tr>
  );
}

/** "52,431.2 (95 %: 51,907.4–53,002.9)": a value with its bootstrap interval over windows. */
function WithInterval({ at, kind = 'plain' }: { at: IntervalValue; kind?: 'plain' | 'ratio' }) {
  return (
    <>
      {formatMetricValue(at.value, kind)}{' '}
      <span className="muted-inline">
        (95 %: {formatMetricValue(at.low, kind)}–{formatMetricValue(at.high, kind)})
      </span>
    </>
  );
}

/** An encoder on the user's text: masked-token accuracy and NLL at the chosen positions, with their intervals over windows. */
const MASKED_ROWS: { key: 'accuracy' | 'nll'; label: string; kind: 'ratio' | 'plain'; better: 'higher' | 'lower'; explain: string }[] = [
  { key: 'accuracy', label: 'Masked-token accuracy, on your text', kind: 'ratio', better: 'higher', explain: 'About 15 % of each evaluation window’s tokens are chosen (BERT’s rule: 80 % become [MASK], 10 % a random token, 10 % stay); the share where the model’s most likely token is the original. The interval resamples whole windows (2,000 bootstrap resamples, seed 0).' },
  { key: 'nll', label: 'Masked-LM NLL, on your text', kind: 'plain', better: 'lower', explain: 'Mean negative log-likelihood (nats) of the original token at the chosen positions. The interval resamples whole windows.' },
];

function MaskedMetricRows({ dense, run }: { dense: MaskedLmMetrics; run?: RunRecord }) {
  const compressed = run?.evaluation?.masked;
  return (
    <>
      {MASKED_ROWS.map(({ key, label, kind, better, explain }) => {
        const after = compressed?.[key];
        return (
          <tr key={key} data-masked-metric={key} data-dense={dense[key].value} data-value={run ? after?.value : dense[key].value} data-low={(run ? after : dense[key])?.low} data-high={(run ? after : dense[key])?.high}>
            <th scope="row">
              {label} <Explain about={label.toLowerCase()} text={explain} />
              <span className="better">{betterHint(better)}</span>
            </th>
            <td title={exact(dense[key].value)}>
              <WithInterval at={dense[key]} kind={kind} />
            </td>
            {run && <td title={after ? exact(after.value) : undefined}>{after ? <WithInterval at={after} kind={kind} /> : run.status === 'running' ? '…' : '—'}</td>}
            {run && <td>{after ? <Change better={better} from={dense[key].value} to={after.value} kind={kind} /> : null}</td>}
          </tr>
        );
      })}
    </>
  );
}

/**
 * The metrics on the user's own text: perplexity per token (of this tokenizer) and bits per byte
 * (comparable across tokenizers), each with its 95 % percentile bootstrap interval over the
 * evaluation windows. The generic "bits per character" row is left out: a token is not a character.
 */
const TEXT_ROWS: { key: 'perplexity' | 'bitsPerByte'; label: string; explain: string }[] = [
  { key: 'perplexity', label: 'Perplexity per token, on your text', explain: 'e^(mean negative log-likelihood per token) over the evaluation windows of your text, with this model’s tokenizer. The interval resamples whole windows (2,000 bootstrap resamples, seed 0).' },
  { key: 'bitsPerByte', label: 'Bits per byte, on your text', explain: 'The same likelihood in bits, divided by the UTF-8 bytes the predicted tokens spell: comparable across tokenizers. The interval resamples whole windows.' },
];

function TextMetricRows({ dense, run }: { dense: TextMetrics; run?: RunRecord }) {
  const compressed = run?.evaluation?.text;
  return (
    <>
      {TEXT_ROWS.map(({ key, label, explain }) => {
        const after = compressed?.[key];
        return (
          <tr key={key} data-text-metric={key} data-dense={dense[key].value} data-value={run ? after?.value : dense[key].value} data-low={(run ? after : dense[key])?.low} data-high={(run ? after : dense[key])?.high}>
            <th scope="row">
              {label} <Explain about={label.toLowerCase()} text={explain} />
              <span className="better">{betterHint('lower')}</span>
            </th>
            <td title={exact(dense[key].value)}>
              <WithInterval at={dense[key]} />
            </td>
            {run && <td title={after ? exact(after.value) : undefined}>{after ? <WithInterval at={after} /> : run.status === 'running' ? '…' : '—'}</td>}
            {run && <td>{after ? <Change better="lower" from={dense[key].value} to={after.value} kind="plain" /> : null}</td>}
          </tr>
        );
      })}
    </>
  );
}

function MetricTable({ dense, denseText, denseMasked, run, baseLabel }: { dense: EvalMetrics; denseText?: TextMetrics; denseMasked?: MaskedLmMetrics; run?: RunRecord; baseLabel: string }) {
  const compressed = run?.evaluation?.metrics;
  const folder = run && folderDownload(run);
  const runCol = run ? `Run ${run.number}` : undefined;
  const report = run?.report;
  const layerMean = report ? report.layers.reduce((sum, l) => sum + l.targetSparsity, 0) / Math.max(1, report.layers.length) : undefined;
  const download = run && runDownload(run);
  return (
    <table className="metric-table" data-testid={run ? 'run-comparison' : 'metrics'}>
      <thead>
        <tr>
          <th scope="col">Metric</th>
          <th scope="col">{baseLabel}</th>
          {runCol && <th scope="col">{runCol}</th>}
          {runCol && <th scope="col">Change</th>}
        </tr>
      </thead>
      <tbody>
        {denseText && <TextMetricRows dense={denseText} run={run} />}
        {denseMasked && <MaskedMetricRows dense={denseMasked} run={run} />}
        {metricEntries(dense)
          .filter(({ key }) => !denseText || (key !== 'perplexity' && key !== 'bitsPerChar'))
          .filter(({ key }) => !denseMasked || (key !== 'top1' && key !== 'meanNll'))
          .map(({ key, meaning, value }) => {
          const after = compressed ? (compressed as unknown as Record<string, number>)[key] : undefined;
          return (
            <tr key={key} data-metric={key} data-value={run ? after : value} data-dense={value}>
              <th scope="row">
                {meaning.label} <Explain about={meaning.label.toLowerCase()} text={meaning.explain} />
                {meaning.better !== 'neither' && <span className="better">{betterHint(meaning.better)}</span>}
              </th>
              <td title={exact(value)}>{formatMetricValue(value, meaning.kind)}</td>
              {runCol && <td title={after !== undefined ? exact(after) : undefined}>{after !== undefined ? formatMetricValue(after, meaning.kind) : run?.status === 'running' ? '…' : '—'}</td>}
              {runCol && <td>{after !== undefined ? <Change better={meaning.better} from={value} to={after} kind={meaning.kind} /> : null}</td>}
            </tr>
          );
        })}
        {report && (
          <>
            {report.layers.length > 0 && (
            <tr data-measure="sparsity">
              <th scope="row">
                {measureMeanings.sparsityByParams.label} <Explain about="sparsity by parameter count" text={measureMeanings.sparsityByParams.explain} />
              </th>
              <td>0.0 %</td>
              <td title={exact(report.totals.achievedSparsityPruned)} data-testid="achieved-sparsity" data-value={report.totals.achievedSparsityPruned}>
                {percent(report.totals.achievedSparsityPruned)}
              </td>
              <td className="muted">
                {report.totals.prunedZeros.toLocaleString('en-US')} of {report.totals.prunedParams.toLocaleString('en-US')} weights in {report.totals.prunedLayers} layers
              </td>
            </tr>
            )}
            {report.quantized.length > 0 && (
              <tr data-measure="quantized">
                <th scope="row">
                  Quantized layers <Explain about="quantized layers" text="Packed layers are stored as MatMulNBits codes that ONNX Runtime runs; simulated ones as the dequantized float weights (the same numbers at float size), for formats no runtime runs." />
                </th>
                <td>—</td>
                <td data-testid="quantized-layers">
                  {report.totals.packedLayers > 0 && `${report.totals.packedLayers} packed`}
                  {report.totals.packedLayers > 0 && report.totals.simulatedLayers > 0 && ', '}
                  {report.totals.simulatedLayers > 0 && <strong>{report.totals.simulatedLayers} SIMULATED</strong>}
                </td>
                <td className="muted">{report.quantized[0]?.format}</td>
              </tr>
            )}
            {report.layers.length > 0 && layerMean !== undefined && Math.abs(layerMean - report.totals.achievedSparsityPruned) > 0.0005 && (
              <tr data-measure="layer-mean">
                <th scope="row">
                  {measureMeanings.sparsityLayerMean.label} <Explain about="the per-layer mean" text={measureMeanings.sparsityLayerMean.explain} />
                </th>
                <td>—</td>
                <td title={exact(layerMean)}>{percent(layerMean)}</td>
                <td className="muted">differs from the headline: see ?</td>
              </tr>
            )}
            <InferenceTimeRow run={run!} />
            <LatencyRow run={run!} />
            <tr data-measure="file-size">
              <th scope="row">
                {measureMeanings.fileSize.label} <Explain about="file size" text={measureMeanings.fileSize.explain} />
              </th>
              <td title={run?.dense.sizeBytes !== undefined ? `${run.dense.sizeBytes} bytes` : undefined}>{run?.dense.sizeBytes !== undefined ? shortBytes(run.dense.sizeBytes) : '—'}</td>
              <td title={`${report.totals.denseFileBytes} bytes`} data-testid="run-file-bytes" data-value={report.totals.denseFileBytes}>
                {shortBytes(report.totals.denseFileBytes)} measured
              </td>
              <td>
                {download ? (
                  <>
                    <a href={download.url} download={download.fileName} data-testid="download-run">
                      Download {download.fileName}
                    </a>
                    <PinModel run={run!} url={download.url} />
                    {folder && (
                      <a className="download-folder" href={folder.url} download={folder.fileName} data-testid="download-folder">
                        Download folder (.zip)
                      </a>
                    )}
                  </>
                ) : (
                  <PinnedModel run={run!} fileName={compressedFileName(run!.model.stem, run!.recipe)} />
                )}
              </td>
            </tr>
            {report.totals.analyticQuantizedFileBytes !== null && (
              <tr data-measure="packed-analytic">
                <th scope="row">
                  Packed size (analytic) <Explain about="the analytic packed size" text="The file with every quantized layer in its format (codes, scales, zero points) and the rest as stored, computed, not written. For packed layers the measured file is within a few percent of it." />
                </th>
                <td>—</td>
                <td title={`${report.totals.analyticQuantizedFileBytes} bytes`} data-testid="analytic-bytes" data-value={report.totals.analyticQuantizedFileBytes}>
                  {shortBytes(report.totals.analyticQuantizedFileBytes)} analytic
                </td>
                <td className="muted">{report.totals.simulatedLayers > 0 ? 'what a runtime with these formats would store' : 'measured file above'}</td>
              </tr>
            )}
            {report.layers.length > 0 && report.totals.packedLayers === 0 && (
            <tr data-measure="sparse-estimate">
              <th scope="row">
                {measureMeanings.sparseEstimate.label} <Explain about="the sparse storage estimate" text={measureMeanings.sparseEstimate.explain} />
              </th>
              <td>—</td>
              <td title={`${report.totals.estimatedSparseFileBytes} bytes`}>{shortBytes(report.totals.estimatedSparseFileBytes)} estimated</td>
              <td className="muted">not written</td>
            </tr>
            )}
          </>
        )}
      </tbody>
    </table>
  );
}

export function ResultPanel() {
  const evaluation = useLab((s) => s.evaluation);
  const run = useLab(selectedRun);
  const ready = useLab((s) => s.model.status === 'ready');
  const loadId = useLab((s) => s.model.loadId);
  // A run is compared with the dense model it was made from, even after another model loaded.
  const dense = run ? run.dense.metrics : evaluation.metrics;
  const denseText = run ? run.dense.text : evaluation.text;
  const denseMasked = run ? run.dense.masked : evaluation.masked;
  const earlier = run !== undefined && run.model.loadId !== loadId;
  // A compressed model dropped back in is what it is: its metrics are not a dense baseline.
  const verdict = useLab((s) => s.model.analysis?.compression.verdict);
  const loadedCompressed = verdict !== undefined && verdict !== 'dense';
  const baseLabel = loadedCompressed && (!run || !earlier) ? 'As loaded' : 'Dense';
  const denseRunning = evaluation.status === 'running';
  return (
    <section className="panel result" aria-labelledby="result-title" data-testid="result-panel">
      <h2 id="result-title">
        3 · Result{' '}
        {run ? (
          <span className="muted">
            — run {run.number}: {run.report?.summary ?? run.model.label}
          </span>
        ) : (
          <span className="muted">{loadedCompressed ? `— the ${verdict === 'quantized' ? 'quantized' : 'pruned'} model as loaded (not a dense baseline)` : '— the dense model, before any run'}</span>
        )}
      </h2>
      {earlier && (
        <p className="notice" data-testid="earlier-model">
          Run {run.number} was made from {run.model.label}, loaded earlier: it is compared with that model’s dense metrics.
        </p>
      )}
      {evaluation.datasetLabel && <p className="muted">Measured on the {evaluation.datasetLabel}.</p>}
      {denseRunning && (
        <div className="progress" data-testid="eval-progress">
          <progress value={evaluation.progress?.done ?? 0} max={evaluation.progress?.total ?? 1} aria-label="Dense evaluation progress" />
          <span>Evaluating the dense model… {evaluation.progress ? `${evaluation.progress.done}/${evaluation.progress.total}` : ''}</span>
          <button type="button" onClick={cancelEvaluation}>
            Cancel
          </button>
        </div>
      )}
      {(evaluation.status === 'error' || evaluation.status === 'unavailable' || evaluation.status === 'cancelled') && (
        <p className={evaluation.status === 'error' ? 'error' : 'notice'} data-testid="eval-message">
          {evaluation.message}{' '}
          {evaluation.status !== 'unavailable' && (
            <button type="button" disabled={!ready} onClick={() => void runEvaluation()}>
              Evaluate again
            </button>
          )}
        </p>
      )}
      <BackendLine />
      {run?.status === 'running' && <RunProgress run={run} />}
      {run?.message && (
        <p className={run.status === 'error' ? 'error' : 'notice'} role={run.status === 'error' ? 'alert' : undefined} data-testid="run-message">
          Run {run.number}: {run.message}
        </p>
      )}
      {run?.report && run.report.backends.layerFallbacks > 0 && (
        <p className="notice" data-testid="run-fallback">
          Layer jobs asked for WebGPU but {run.report.backends.layerFallbacks} of {run.report.layers.length} ran on the CPU: {run.report.layers.find((l) => l.backend.ran === 'cpu' && l.backend.requested === 'webgpu')?.backend.fallbackReason ?? 'no reason given'}.
        </p>
      )}
      {dense && <MetricTable dense={dense} denseText={denseText} denseMasked={denseMasked} run={run} baseLabel={baseLabel} />}
      {!run && dense && <p className="muted">Choose a recipe on the left and run it: the result appears here against these numbers, and every run is kept in the list below.</p>}
      {run?.status === 'done' && run.durationMs !== undefined && (
        <p className="muted" data-testid="run-timing">
          Run {run.number} took {seconds(run.durationMs)} from click to metrics
          {run.report?.calibration && `, calibration ${seconds(run.report.calibration.ms)} on ${run.report.calibration.samples} samples`}.
        </p>
      )}
      {run?.status === 'done' && run.report && <ShareLink key={run.id} run={run} />}
    </section>
  );
}
