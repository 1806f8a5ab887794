// The attention view: every layer's and head's post-softmax map for one input (text for the LM,
// an evaluation image or a drawn one for the ViT), as a grid of thumbnails; one head zoomed with
// token labels, sinks marked, and its statistics as a table, beside it the same head after ACT and
// the change; for the ViT, the digit with its patches shaded beside it. The maps come from the
// model worker ('attention' request), of the dense model or of a held run's result.
import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { ACT_REFERENCE_PARAMS, sinkScores, type ActParams, type AttentionInput } from '../../core/attention';
import { headHiddenSinks } from '../../core/attention/stats';
import { actParams, isAttentionStage } from '../../core/recipe/stages/attention';
import type { TextCodec } from '../textCodec';
import type { CharVocab } from '../../core/catalog/vocab';
import { CharTokenizer } from '../../core/catalog/vocab';
import { patchLayout, patchTokenLabels, type PatchArchitecture } from '../../core/attention/patches';
import type { ImageDataset } from '../../core/eval/datasets';
import type { ImagePrediction } from '../../core/eval/predict';
import type { AttentionResult, ModelTarget } from '../../../workers/protocol';
import { actCompareChart, actCompareHeight, actComparison, attentionMapChart, attentionMapHeight, headThumbnail, type ActComparison, type ComparePanel, type HeadMap, type MapHover } from '../charts/attentionMap';
import '../charts/charts.css';
import { sinkChart, sinkChartHeight } from '../charts/sinkChart';
import { useLab } from '../store';
import { ChartOrTable } from './ChartOrTable';
import { D3Chart } from './D3Chart';
import { DigitCanvas } from './DigitCanvas';
import { PatchOverlayPanel, type PatchDigit } from './PatchOverlayPanel';

export interface AttentionViewProps {
  /**
   * The LM's vocabulary (text input), or the ViT's evaluation images (an index, or a drawing) with
   * its model card's architecture, which says how its tokens tile the image (patches.ts).
   */
  source:
    | { kind: 'text'; vocab: CharVocab; contextLength: number }
    /** A dropped folder's text model: its tokenizer.json (in the worker) encodes the text and decodes each id for the labels. */
    | { kind: 'folder'; codec: TextCodec; contextLength: number }
    | { kind: 'image'; dataset: ImageDataset; architecture?: PatchArchitecture };
  /** A held run whose result can be looked at instead of the dense model. */
  run?: { id: string; label: string };
  fetchAttention: (target: ModelTarget, input: AttentionInput) => Promise<AttentionResult>;
  /** The classifier's answer for a one-image set (the worker's 'predict'); without it none is shown. */
  predictImage?: (target: ModelTarget, dataset: ImageDataset) => Promise<ImagePrediction>;
}

type Shown = { status: 'running' } | { status: 'done'; result: AttentionResult; labels: string[]; digit?: PatchDigit } | { status: 'error'; message: string };
/** The model's answer for the image shown: which model, and for what ("the drawing", "evaluation image 7"). */
type Predicted = { prediction: ImagePrediction; model: string; input: string; drawn: boolean } | { error: string };

const thumbSize = 56;

export function AttentionView({ source, run, fetchAttention, predictImage }: AttentionViewProps) {
  const tokenizer = useMemo(() => (source.kind === 'text' ? new CharTokenizer(source.vocab) : undefined), [source]);
  const [text, setText] = useState('And God said, Let there be light');
  const [imageIndex, setImageIndex] = useState(0);
  const [imageSource, setImageSource] = useState<'evaluation' | 'drawing'>('evaluation');
  const [drawing, setDrawing] = useState<number[]>();
  const [predicted, setPredicted] = useState<Predicted>();
  const maxValue = useMemo(() => (source.kind === 'image' ? source.dataset.images.reduce((m, image) => image.reduce((a, b) => Math.max(a, b), m), 0) || 1 : 1), [source]);
  const [useRun, setUseRun] = useState(false);
  const [shown, setShown] = useState<Shown>();
  // The zoomed head lives in the store, so a share link can carry it and set it.
  const viewHead = useLab((s) => s.viewHead);
  const picked = { site: viewHead?.block ?? 0, head: viewHead?.head ?? 0 };
  const setPicked = (p: { site: number; head: number }) => useLab.setState({ viewHead: { block: p.site, head: p.head } });
  const request = useRef(0);

  const target: ModelTarget = useRun && run ? { runId: run.id } : 'dense';
  const problem =
    source.kind === 'folder'
      ? text.length === 0
        ? 'Type some text: the model needs at least one token.'
        : undefined
      : source.kind === 'text'
      ? text.length === 0
        ? 'Type some text: the model needs at least one character.'
        : text.length > source.contextLength
          ? `At most ${source.contextLength} characters (the model's context).`
          : tokenizer!.unknownCharacters(text).length > 0
            ? `The model never saw ${tokenizer!.unknownCharacters(text).map((c) => JSON.stringify(c)).join(', ')}.`
            : undefined
      : imageSource === 'drawing' || (Number.isInteger(imageIndex) && imageIndex >= 0 && imageIndex < source.dataset.images.length)
        ? undefined
        : `Pick an image from 0 to ${source.dataset.images.length - 1}.`;
  // The evaluation image the index points at, for the drawing to start from; undefined while the index is invalid.
  const pickedImage: number[] | undefined = source.kind === 'image' ? source.dataset.images[imageIndex] : undefined;

  function capture(): void {
    if (problem) return;
    const mine = ++request.current;
    if (source.kind === 'folder') {
      // Each token labelled by its own decoded text (a byte-level piece may decode to part of a character).
      setShown({ status: 'running' });
      const { codec, contextLength } = source;
      void (async () => {
        try {
          const ids = await codec.encode(text);
          if (ids.length === 0) throw new Error('The text gives no tokens.');
          if (ids.length > contextLength) throw new Error(`${ids.length} tokens: at most ${contextLength} (the model's context).`);
          const labels = await Promise.all(ids.map((id) => codec.decode([id])));
          const result = await fetchAttention(target, { kind: 'tokens', ids });
          if (mine === request.current) setShown({ status: 'done', result, labels: result.ok && result.captured.tokens === labels.length ? labels : labels.map((_, k) => String(k)) });
        } catch (e) {
          if (mine === request.current) setShown({ status: 'error', message: (e as Error).message });
        }
      })();
      return;
    }
    let input: AttentionInput;
    let labels: string[];
    let image: number[] | undefined;
    setPredicted(undefined);
    if (source.kind === 'text') {
      input = { kind: 'tokens', ids: tokenizer!.encode(text) };
      labels = [...text];
    } else {
      // One image travels, not the whole set, with the set's shape and preprocessing (the worker
      // divides as for evaluation). A drawing has no label: -1, never shown.
      const drawn = imageSource === 'drawing' && drawing !== undefined;
      image = drawn ? drawing : source.dataset.images[imageIndex];
      const dataset = { ...source.dataset, images: [image], labels: [drawn ? -1 : source.dataset.labels[imageIndex]] };
      input = { kind: 'image', dataset, index: 0 };
      labels = [];
      const model = target === 'dense' ? 'The dense model' : 'The run’s result';
      predictImage?.(target, dataset).then(
        (prediction) => mine === request.current && setPredicted({ prediction, model, input: drawn ? 'the drawing' : `evaluation image ${imageIndex}`, drawn }),
        (e: Error) => mine === request.current && setPredicted({ error: e.message }),
      );
    }
    setShown({ status: 'running' });
    fetchAttention(target, input).then(
      (result) => {
        if (mine !== request.current) return;
        const tokens = result.ok ? result.captured.tokens : 0;
        // The ViT's tokens by patch position ("CLS", "r0c0" …) when its layout can be derived, else by index.
        const layout = source.kind === 'image' && tokens > 0 ? patchLayout(source.dataset.shape, tokens, source.architecture) : undefined;
        const tokenLabels = labels.length === tokens ? labels : layout ? patchTokenLabels(layout) : Array.from({ length: tokens }, (_, k) => String(k));
        const digit = layout && image && source.kind === 'image' ? { image, shape: source.dataset.shape, maxValue, layout } : undefined;
        setShown({ status: 'done', result, labels: tokenLabels, digit });
      },
      (e: Error) => mine === request.current && setShown({ status: 'error', message: e.message }),
    );
  }

  // The first map on opening, and again when the model looked at changes.
  useEffect(capture, [useRun, run?.id]);

  return (
    <div className="attention-view" data-testid="attention-view">
      <form
        className="fields"
        onSubmit={(e) => {
          e.preventDefault();
          capture();
        }}
      >
        {source.kind === 'text' || source.kind === 'folder' ? (
          <label className="field">
            Text
            <input aria-label="Attention text" value={text} maxLength={source.kind === 'text' ? source.contextLength : undefined} onChange={(e) => setText(e.target.value)} />
          </label>
        ) : (
          <fieldset className="attention-image-input">
            <legend>Input image</legend>
            <label className="field check">
              <input type="radio" name="attention-image-source" checked={imageSource === 'evaluation'} onChange={() => setImageSource('evaluation')} />
              Evaluation image
            </label>
            <input aria-label="Attention image index" type="number" min={0} max={source.dataset.images.length - 1} value={imageIndex} onChange={(e) => setImageIndex(Number(e.target.value))} />
            <label className="field check">
              <input
                type="radio"
                name="attention-image-source"
                checked={imageSource === 'drawing'}
                onChange={() => {
                  setImageSource('drawing');
                  if (!drawing) setDrawing(pickedImage ? [...pickedImage] : source.dataset.images[0].map(() => 0));
                }}
              />
              My drawing
            </label>
            {imageSource === 'drawing' && drawing && (
              <div className="attention-drawing">
                <DigitCanvas pixels={drawing} height={source.dataset.shape.at(-2) ?? 1} width={source.dataset.shape.at(-1) ?? drawing.length} maxValue={maxValue} onChange={setDrawing} />
                <button type="button" disabled={!pickedImage} onClick={() => pickedImage && setDrawing([...pickedImage])}>
                  Start from evaluation image {imageIndex}
                </button>
              </div>
            )}
          </fieldset>
        )}
        {run && (
          <label className="field check">
            <input type="checkbox" checked={useRun} onChange={(e) => setUseRun(e.target.checked)} />
            {run.label}
          </label>
        )}
        <button type="submit" disabled={problem !== undefined || shown?.status === 'running'}>
          Show attention
        </button>
      </form>
      {problem && <p className="error">{problem}</p>}
      {shown?.status === 'running' && <p className="muted">Capturing attention…</p>}
      {predicted && <PredictionLine predicted={predicted} />}
      {shown?.status === 'error' && <p className="error">{shown.message}</p>}
      {shown?.status === 'done' && !shown.result.ok && (
        <p className="muted" data-testid="attention-unavailable">
          {shown.result.reason}
        </p>
      )}
      {shown?.status === 'done' && shown.result.ok && <AttentionMaps result={shown.result} labels={shown.labels} digit={shown.digit} picked={picked} onPick={setPicked} />}
    </div>
  );
}

function PredictionLine({ predicted }: { predicted: Predicted }) {
  if ('error' in predicted) return <p className="error">No prediction: {predicted.error}</p>;
  const { prediction, model, input, drawn } = predicted;
  return (
    <p className="attention-prediction" data-testid="attention-prediction">
      {model} predicts <strong>{prediction.predicted}</strong> (probability {prediction.probability.toFixed(2)}) for {input}
      {drawn ? '.' : `; its label is ${prediction.label}.`}
    </p>
  );
}

function AttentionMaps({ result, labels, digit, picked, onPick }: { result: Extract<AttentionResult, { ok: true }>; labels: string[]; digit?: PatchDigit; picked: { site: number; head: number }; onPick: (p: { site: number; head: number }) => void }) {
  const { captured, stats } = result;
  // The zoomed map's hover, for the patch overlay; only followed when there is an overlay.
  const [hover, setHover] = useState<MapHover>({ query: null, key: null });
  const [shownMaps, setShownMaps] = useState<MapChoice>('original');
  const act = useActParams();
  const siteIndex = Math.min(picked.site, captured.sites.length - 1);
  const site = captured.sites[siteIndex];
  const headIndex = Math.min(picked.head, site.heads - 1);
  const layer = stats[siteIndex];
  const head = layer.heads[headIndex];
  const T = site.tokens;
  const blockName = (s: number) => `block ${captured.sites[s].block ?? s}`;
  const title = `${blockName(siteIndex)} head ${headIndex}`;
  const map: HeadMap = useMemo(() => ({ tokens: T, probabilities: site.probabilities, offset: headIndex * T * T, causal: site.causal }), [site, headIndex, T]);
  const comparison = useMemo(() => (act.problem ? undefined : actComparison(map, act.params)), [map, act.params, act.problem]);
  const panels = mapChoices[shownMaps].panels;
  return (
    <div className="attention-maps">
      <p className="muted">
        {T} tokens, {captured.sites.length} layers on {result.backend.used}
        {result.backend.fallbackReason ? ` (${result.backend.fallbackReason})` : ''}. Each thumbnail is one head (rows: queries, columns: keys); orange ticks under it mark its sink keys. Click one to zoom.
      </p>
      <div className="attention-grid" data-testid="attention-grid">
        {captured.sites.map((s, si) => (
          <div className="attention-layer" key={s.softmaxNode}>
            <span className="attention-layer-name">
              {blockName(si)}
              <br />
              <span className="muted-inline">sink mass {stats[si].sinkMass.toFixed(2)}</span>
            </span>
            {Array.from({ length: s.heads }, (_, h) => (
              <button
                key={h}
                type="button"
                className="attention-thumb"
                data-testid="attention-thumb"
                aria-pressed={si === siteIndex && h === headIndex}
                aria-label={`block ${s.block ?? si} head ${h}, sink mass ${stats[si].heads[h].sinkMass.toFixed(2)}`}
                title={`block ${s.block ?? si} head ${h}: sink mass ${stats[si].heads[h].sinkMass.toFixed(2)}, entropy ${stats[si].heads[h].entropy.toFixed(2)} nats`}
                onClick={() => onPick({ site: si, head: h })}
              >
                <D3Chart render={(doc) => headThumbnail({ tokens: s.tokens, probabilities: s.probabilities, offset: h * s.tokens * s.tokens, causal: s.causal }, stats[si].heads[h].sinks, { width: thumbSize, height: thumbSize + 3 }, doc)} deps={[s, h]} />
              </button>
            ))}
          </div>
        ))}
      </div>
      <SinkOverview result={result} picked={{ site: siteIndex, head: headIndex }} onPick={onPick} />
      <h3 data-testid="attention-zoom-title">{title}</h3>
      <p className="muted" data-testid="attention-head-summary">
        Sink mass {head.sinkMass.toFixed(3)} (mean share of a query’s attention that goes to sinks), entropy {head.entropy.toFixed(2)} nats, sinks at {head.sinks.length === 0 ? 'no key' : head.sinks.map((j) => `${j} “${labels[j]}”`).join(', ')} (τ = {layer.threshold}).
      </p>
      <ActControls shown={shownMaps} onShow={setShownMaps} act={act} comparison={comparison} labels={labels} />
      <div className="attention-zoom-row">
        <ChartOrTable
          className="attention-zoom"
          testId="attention-zoom"
          chart={(width) =>
            panels && comparison ? (
              <D3Chart render={(doc) => actCompareChart({ original: map, act: comparison, labels, title, panels, onHover: digit && setHover }, { width, height: actCompareHeight(T, width, panels) }, doc)} deps={[comparison, panels, width, labels]} />
            ) : (
              <D3Chart
                render={(doc) => attentionMapChart({ ...map, labels, sinks: head.sinks, threshold: layer.threshold, title, onHover: digit && setHover }, { width, height: attentionMapHeight(T, width) }, doc)}
                deps={[site, headIndex, width, labels]}
              />
            )
          }
          table={() => <SinkScoreTable title={title} labels={labels} scores={head.sinkScores} sinks={head.sinks} comparison={panels && comparison} />}
        />
        {digit && <PatchOverlayPanel map={map} labels={labels} sinks={head.sinks} digit={digit} hover={hover} />}
      </div>
    </div>
  );
}

/** Which maps the zoomed head shows: itself, or the ACT comparison's panels. */
type MapChoice = 'original' | 'after' | 'change' | 'all';
const mapChoices: Record<MapChoice, { label: string; panels: ComparePanel[] | null }> = {
  original: { label: 'Original', panels: null },
  after: { label: 'After ACT', panels: ['after'] },
  change: { label: 'Change (after − original)', panels: ['change'] },
  all: { label: 'All three side by side', panels: ['before', 'after', 'change'] },
};

interface ActParamsInView {
  params: ActParams;
  /** Where the starting values came from. */
  source: string;
  problem?: string;
  setBeta: (beta: number) => void;
  setThreshold: (value: number) => void;
  reset: () => void;
}

/**
 * ACT's β and sink threshold for the comparison: the recipe's attention stage, else the
 * reference's. Edited here, they stay in the view — the recipe is edited in the recipe builder.
 */
function useActParams(): ActParamsInView {
  const stage = useLab((s) => s.recipe.stages.find(isAttentionStage));
  const start = useMemo(() => (stage ? actParams(stage) : ACT_REFERENCE_PARAMS), [stage]);
  const [edited, setEdited] = useState<ActParams>();
  useEffect(() => setEdited(undefined), [start]);
  const params = edited ?? start;
  const value = params.threshold.kind === 'absolute' ? params.threshold.tau : params.threshold.alpha;
  const problem = !(params.beta >= 0 && params.beta <= 1) ? 'β must be in [0, 1].' : params.threshold.kind === 'absolute' ? (value > 0 && value < 1 ? undefined : 'τ must be in (0, 1).') : value > 0 ? undefined : 'α must be > 0.';
  return {
    params,
    source: stage ? 'the recipe’s attention stage' : 'ACT’s reference defaults (the recipe has no attention stage)',
    problem,
    setBeta: (beta) => setEdited({ ...params, beta }),
    setThreshold: (v) => setEdited({ ...params, threshold: params.threshold.kind === 'absolute' ? { kind: 'absolute', tau: v } : { kind: 'relative', alpha: v } }),
    reset: () => setEdited(undefined),
  };
}

/** An emptied number input reads NaN; show it empty, not "NaN". */
const finiteOrEmpty = (v: number) => (Number.isFinite(v) ? v : '');

function ActControls({ shown, onShow, act, comparison, labels }: { shown: MapChoice; onShow: (c: MapChoice) => void; act: ActParamsInView; comparison: ActComparison | undefined; labels: string[] }) {
  const ids = useId();
  const threshold = act.params.threshold;
  return (
    <fieldset className="act-compare" data-testid="act-compare">
      <legend>Compare with ACT</legend>
      <div className="fields" role="radiogroup" aria-label="Maps shown">
        {(Object.keys(mapChoices) as MapChoice[]).map((choice) => (
          <label className="field check" key={choice}>
            <input type="radio" name={`${ids}-maps`} checked={shown === choice} onChange={() => onShow(choice)} />
            {mapChoices[choice].label}
          </label>
        ))}
      </div>
      <div className="fields">
        <label className="field">
          β (factor on the edited sinks)
          <input type="number" aria-label="ACT β" min={0} max={1} step={0.05} value={finiteOrEmpty(act.params.beta)} onChange={(e) => act.setBeta(e.target.valueAsNumber)} />
        </label>
        <label className="field">
          {threshold.kind === 'absolute' ? 'τ (sink threshold)' : 'α (sink threshold α/T)'}
          <input
            type="number"
            aria-label={threshold.kind === 'absolute' ? 'ACT τ' : 'ACT α'}
            min={0}
            step={threshold.kind === 'absolute' ? 0.01 : 0.5}
            value={finiteOrEmpty(threshold.kind === 'absolute' ? threshold.tau : threshold.alpha)}
            onChange={(e) => act.setThreshold(e.target.valueAsNumber)}
          />
        </label>
        <button type="button" onClick={act.reset}>
          Reset
        </button>
      </div>
      <p className="muted">
        ACT formula applied to this captured map (the same as the exported graph computes), with β and τ from {act.source}; changing them here does not change the recipe. Whether an exported model edits this head depends on the
        recipe’s head selection.
      </p>
      {act.problem && <p className="error">{act.problem}</p>}
      {comparison && <ActEffect comparison={comparison} labels={labels} />}
    </fieldset>
  );
}

/** In words: what ACT does to this head, or that it does nothing. */
function ActEffect({ comparison, labels }: { comparison: ActComparison; labels: string[] }) {
  const key = (j: number) => `${j} “${labels[j]}”`;
  const { sinks, edited, threshold, params, extent } = comparison;
  if (edited.length === 0) {
    return (
      <p data-testid="act-effect">
        ACT changes nothing in this head at τ = {threshold}: {sinks.length === 0 ? 'no key is a sink' : `its only sink, key ${key(sinks[0])}, is the first, which ACT leaves alone`}.
      </p>
    );
  }
  return (
    <p data-testid="act-effect">
      ACT scales the attention to sink key{edited.length > 1 ? 's' : ''} {edited.map(key).join(', ')} by β = {params.beta} and gives what it removes to the row’s other keys in proportion; the first sink, key {key(sinks[0])}, stays. Largest change
      in a cell: {extent.toFixed(3)}.
    </p>
  );
}

/** The table alternative: per key, the sink score, and with the comparison its score after ACT. */
function SinkScoreTable({ title, labels, scores, sinks, comparison }: { title: string; labels: string[]; scores: Float64Array; sinks: number[]; comparison: ActComparison | null | undefined }) {
  const after = useMemo(() => comparison && sinkScores(comparison.after.probabilities, comparison.after.tokens, comparison.after.causal), [comparison]);
  return (
    <table data-testid="attention-stats-table">
      <caption>
        {title}: per key, the sink score (mean attention it receives from the queries that can see it){after ? ', and after ACT' : ''}
      </caption>
      <thead>
        <tr>
          <th className="num">key</th>
          <th>token</th>
          <th className="num">sink score</th>
          {after && <th className="num">after ACT</th>}
          <th>sink</th>
        </tr>
      </thead>
      <tbody>
        {Array.from(scores, (score, j) => (
          <tr key={j} data-sink={sinks.includes(j) || undefined}>
            <td className="num">{j}</td>
            <td>{JSON.stringify(labels[j])}</td>
            <td className="num">{score.toFixed(4)}</td>
            {after && <td className="num">{after[j].toFixed(4)}</td>}
            <td>{sinks.includes(j) ? (comparison?.edited.includes(j) ? 'sink (ACT edits it)' : 'sink') : ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Sink mass and hidden sinks per layer × head, with its table alternative. */
function SinkOverview({ result, picked, onPick }: { result: Extract<AttentionResult, { ok: true }>; picked: { site: number; head: number }; onPick: (p: { site: number; head: number }) => void }) {
  const { captured, stats } = result;
  const layerNames = captured.sites.map((s, si) => `block ${s.block ?? si}`);
  return (
    <ChartOrTable
      className="sink-overview"
      testId="sink-overview"
      chart={(width) => (
        <D3Chart render={(doc) => sinkChart({ layers: stats, layerNames, picked }, { width, height: sinkChartHeight(stats.length) }, doc, (site, head) => onPick({ site, head }))} deps={[stats, picked.site, picked.head, width]} />
      )}
      table={() => (
        <table data-testid="sink-overview-table">
          <caption>Per layer and head: sink mass and hidden sinks (sinks after the head’s first, the ones ACT edits)</caption>
          <thead>
            <tr>
              <th>layer</th>
              <th className="num">head</th>
              <th className="num">sink mass</th>
              <th>sink keys</th>
              <th className="num">hidden sinks</th>
            </tr>
          </thead>
          <tbody>
            {stats.flatMap((layer, si) =>
              layer.heads.map((head, h) => (
                <tr key={`${si}.${h}`}>
                  <td>{layerNames[si]}</td>
                  <td className="num">{h}</td>
                  <td className="num">{head.sinkMass.toFixed(3)}</td>
                  <td>{head.sinks.join(', ')}</td>
                  <td className="num">{headHiddenSinks(head)}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      )}
    />
  );
}
