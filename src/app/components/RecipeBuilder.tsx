// The recipe builder: stages in order (prune, quantize, attention calibration), each field explained, each invalid field
// marked at once with its message, and Run disabled with the reason beside it. What the builder
// edits is the same staged document the CLI reads: it can be copied as a command or downloaded.
import { useMemo, useState } from 'react';
import { patternSparsity, type SparsityPattern } from '../../core/prune';
import type { ComputeBackend } from '../../core/job';
import type { ModelAnalysis } from '../../core/model/types';
import type { StageSpec } from '../../core/recipe/types';
import { isPruneStage, needsCalibration, type AllocationKind, type MagnitudeScope, type PruneStage, type Recipe } from '../../core/recipe';
import { compressedFileName } from '../../core/recipe';
import { percent } from '../format';
import { allocationMeanings, calibrationMeanings, docLink, methodMeanings, patternMeanings, scopeMeanings } from '../glossary';
import { stageAttentionLayers } from '../../core/recipe/stages/attention';
import { ATTENTION_FIELDS, cliCommand, problemsByField, recipeDocument } from '../recipeForm';
import { attentionStageOf, pruneStageOf, quantizeStageOf, runProblems, runRecipe, setCalibration, setPruneStage, setStageEnabled } from '../runController';
import { modelStem } from '../controller';
import { isRunActive, useLab } from '../store';
import { Field } from './Field';
import { NumberInput } from './NumberInput';
import { QuantizeStageFields } from './QuantizeStageFields';
import { AttentionStageFields } from './AttentionStageFields';
import { StructuredStageSection } from './StructuredStageFields';
import { structuredFieldKeys, structuredKey } from '../structuredForm';
import { SliceStageSection } from './SliceStageFields';
import { sliceFieldKeys } from '../sliceStage';
import { LowRankStageFields } from './LowRankStageFields';
import { BitStackStageFields } from './BitStackStageFields';
import { bitStackStageOf, lowRankStageOf, shapeStageFieldKeys } from '../shapeStageControls';

type PatternChoice = SparsityPattern['kind'];

function patternWith(kind: PatternChoice, old: SparsityPattern): SparsityPattern {
  if (kind === 'unstructured') return { kind, sparsity: old.kind === 'unstructured' ? old.sparsity : 0.5 };
  const m = old.kind === 'unstructured' ? (kind === 'nm' ? 4 : 8) : old.m;
  return kind === 'nm' ? { kind, n: old.kind === 'nm' ? old.n : 2, m } : { kind, v: old.kind === 'vnm' ? old.v : 16, n: 2, m };
}

const NM_PRESETS: [number, number][] = [
  [2, 4],
  [1, 4],
  [4, 8],
  [2, 8],
];

export function RecipeBuilder() {
  const recipe = useLab((s) => s.recipe);
  const analysis = useLab((s) => s.model.analysis);
  const source = useLab((s) => s.model.source);
  const running = useLab(isRunActive);
  const refusal = useLab((s) => s.refusal);
  const [advanced, setAdvanced] = useState(false);
  const stageIndex = Math.max(0, recipe.stages.findIndex(isPruneStage));
  const key = (field: string) => `stages[${stageIndex}].${field}`;
  const hasPrune = recipe.stages.some(isPruneStage);
  const quantize = quantizeStageOf(recipe);
  const quantIndex = recipe.stages.findIndex((s) => s === quantize);
  const quantKey = (field: string) => `stages[${quantIndex}].${field}`;
  const attention = attentionStageOf(recipe);
  const attnKey = (field: string) => `stages[${recipe.stages.findIndex((s) => s === attention)}].${field}`;
  // A list field whose text does not parse yet: the recipe keeps its last list, so Run must wait.
  const [listDrafts, setListDrafts] = useState<{ heads?: string; skipLayers?: string }>({});
  const draftProblems = !attention ? [] : [Array.isArray(attention.heads) && listDrafts.heads ? `${attnKey('heads')}: ${listDrafts.heads}` : undefined, attention.heads === 'search' && Array.isArray(attention.skipLayers) && listDrafts.skipLayers ? `${attnKey('skipLayers')}: ${listDrafts.skipLayers}` : undefined].filter((p) => p !== undefined);
  // Impossible recipes are refused before any work starts: derived from the recipe, never stored.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const validation = useMemo(() => runProblems(), [recipe, analysis]);
  const problems = [...draftProblems, ...validation];
  // Why the model offers ACT nothing to calibrate (fused or no attention): the stage's own check.
  const attentionLayers = analysis ? stageAttentionLayers(analysis) : 'load a model first';
  const noAttention = typeof attentionLayers === 'string' ? attentionLayers : undefined;
  const quantFields = ['method', 'bits', 'granularity', 'groupSize', 'mxFormat', 'export', 'gptq.blockSize', 'gptq.percDamp', 'quik.outlierColumns', 'quik.activationBits', 'layers', 'mixed', 'mixed.targetBits'].map(quantKey);
  // Each stage's keys carry its own index (quantFields and the attention keys are full paths already).
  const pruneFields = ['method', 'magnitudeScope', 'pattern', 'sparsity', 'allocation.kind', 'allocation.tokenSelection', 'sparseGpt.blockSize', 'sparseGpt.percDamp', 'quantize', 'quantize.bits', 'quantize.groupSize', 'quantize.granularity', 'quantize.export', 'layers', 'layers.skip'].map(key);
  const fieldKeys = [...structuredFieldKeys(recipe), ...sliceFieldKeys(recipe), ...(hasPrune ? pruneFields : []), ...(quantIndex >= 0 ? quantFields : []), ...(attention ? ATTENTION_FIELDS.map((f) => attnKey(f)) : []), ...shapeStageFieldKeys(recipe), 'calibration.samples', 'calibration.mode', 'calibration.batchSize', 'seed'];
  const { byField, unplaced } = problemsByField(problems, fieldKeys);
  const errorOf = (...fields: string[]) => fields.flatMap((f) => byField.get(f) ?? []).join(' ') || undefined;
  const stage = pruneStageOf(recipe);
  const pattern = stage.pattern;
  const calibrated = needsCalibration(recipe);
  const cal = recipe.calibration;
  const sweeping = useLab((s) => s.sweep?.status === 'running');
  const blocked = sweeping
    ? 'A sweep is running (Trade-off tab): cancel it or wait for it to finish.'
    : running
      ? 'A run is in progress: cancel it or wait for it to finish.'
      : problems.length > 0
        ? problems[0]
        : undefined;
  const stem = source ? modelStem(source) : 'model';
  const outFile = compressedFileName(stem, recipe);
  const recipeFile = outFile.replace(/\.onnx$/, '.recipe.json');
  const command = cliCommand(source, recipeFile, outFile);

  return (
    <section className="panel recipe" aria-labelledby="recipe-title">
      <h2 id="recipe-title">2 · Recipe</h2>
      <ol className="stages">
        <StructuredStageSection recipe={recipe} errorOf={(field) => errorOf(structuredKey(recipe, field))} />
        <SliceStageSection recipe={recipe} analysis={analysis} errorOf={(field) => errorOf(field)} />
        <ShapeSections recipe={recipe} analysis={analysis} errorOf={errorOf} />
        <li className={hasPrune ? 'stage' : 'stage off'}>
          <div className="stage-head">
            <h3>Stage 1 · Prune</h3>
            <label className="stage-toggle">
              <input type="checkbox" checked={hasPrune} onChange={(e) => setStageEnabled('prune', e.target.checked)} /> Use pruning
            </label>
          </div>
          {hasPrune && (
            <>
          <Field label="Method" explain={methodMeanings[stage.method].explain} href={docLink('concepts', methodMeanings[stage.method].anchor)}>
            {(props) => (
              <select {...props} value={stage.method} onChange={(e) => setPruneStage({ method: e.target.value as PruneStage['method'] })}>
                {Object.entries(methodMeanings).map(([m, meaning]) => (
                  <option key={m} value={m}>
                    {meaning.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {stage.method === 'magnitude' && (
            <Field label="Compare weights within" explain="Magnitude pruning removes the smallest weights of each group: a layer, an output row, or every layer at once." error={errorOf(key('magnitudeScope'))}>
              {(props) => (
                <select {...props} value={stage.magnitudeScope} onChange={(e) => setPruneStage({ magnitudeScope: e.target.value as MagnitudeScope })}>
                  {Object.entries(scopeMeanings).map(([scope, label]) => (
                    <option key={scope} value={scope}>
                      {label}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          )}
          <Field label="Pattern" explain={patternMeanings[pattern.kind].explain} href={docLink('concepts', 'patterns')}>
            {(props) => (
              <select {...props} value={pattern.kind} onChange={(e) => setPruneStage({ pattern: patternWith(e.target.value as PatternChoice, pattern) })}>
                {Object.entries(patternMeanings).map(([kind, meaning]) => (
                  <option key={kind} value={kind}>
                    {meaning.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {pattern.kind === 'unstructured' && (
            <Field label="Target sparsity (%)" explain="The share of each pruned layer’s weights set to zero." error={errorOf(key('pattern'), key('sparsity'))}>
              {(props) => (
                <div className="slider-row">
                  <input type="range" min={0} max={95} step={1} value={Number.isFinite(pattern.sparsity) ? Math.min(95, pattern.sparsity * 100) : 0} aria-labelledby={`${props.id}-label`} onChange={(e) => setPruneStage({ pattern: { kind: 'unstructured', sparsity: Number(e.target.value) / 100 } })} />
                  <NumberInput props={props} testId="sparsity" value={pattern.sparsity} scale={100} step={5} min={0} max={99} onChange={(sparsity) => setPruneStage({ pattern: { kind: 'unstructured', sparsity } })} />
                </div>
              )}
            </Field>
          )}
          {pattern.kind === 'nm' && (
            <div className="pattern-group" role="group" aria-label="N:M pattern">
              <div className="presets" role="group" aria-label="Common N:M patterns">
                {NM_PRESETS.map(([n, m]) => (
                  <button key={`${n}:${m}`} type="button" className={pattern.n === n && pattern.m === m ? 'preset active' : 'preset'} aria-pressed={pattern.n === n && pattern.m === m} onClick={() => setPruneStage({ pattern: { kind: 'nm', n, m } })}>
                    {n}:{m}
                  </button>
                ))}
              </div>
              <div className="field-pair">
                <Field label="N (kept)" error={errorOf(key('pattern'))}>
                  {(props) => <NumberInput props={props} testId="pattern-n" value={pattern.n} step={1} min={1} onChange={(n) => setPruneStage({ pattern: { ...pattern, n } })} />}
                </Field>
                <Field label="M (group)">{(props) => <NumberInput props={props} testId="pattern-m" value={pattern.m} step={1} min={2} onChange={(m) => setPruneStage({ pattern: { ...pattern, m } })} />}</Field>
              </div>
            </div>
          )}
          {pattern.kind === 'vnm' && (
            <div className="field-pair">
              <Field label="V (rows)" error={errorOf(key('pattern'))}>
                {(props) => <NumberInput props={props} testId="pattern-v" value={pattern.v} step={1} min={1} onChange={(v) => setPruneStage({ pattern: { ...pattern, v } })} />}
              </Field>
              <Field label="M (group)">{(props) => <NumberInput props={props} testId="pattern-m" value={pattern.m} step={1} min={4} onChange={(m) => setPruneStage({ pattern: { ...pattern, m } })} />}</Field>
            </div>
          )}
          {pattern.kind !== 'unstructured' && (
            <p className="readonly" data-testid="implied-sparsity">
              Sparsity <strong>{Number.isFinite(patternSparsity(pattern)) ? percent(patternSparsity(pattern)) : '—'}</strong> <span className="muted">(set by the pattern)</span>
            </p>
          )}
          <Field label="Allocation" explain={allocationMeanings[stage.allocation.kind].explain} href={docLink('concepts', 'allocation')} error={errorOf(key('allocation.kind'))}>
            {(props) => (
              <select {...props} value={stage.allocation.kind} onChange={(e) => setPruneStage({ allocation: { ...stage.allocation, kind: e.target.value as AllocationKind, tokenSelection: e.target.value === 'tamp' && stage.allocation.tokenSelection } })}>
                {Object.entries(allocationMeanings).map(([kind, meaning]) => (
                  <option key={kind} value={kind} disabled={pattern.kind === 'vnm' && kind !== 'uniform'}>
                    {meaning.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {stage.allocation.kind === 'tamp' && stage.method === 'wanda' && (
            <Field label="Attention-guided token selection" explain="TAMP’s variant of Wanda that weighs input norms by the attention each token receives." error={errorOf(key('allocation.tokenSelection'))} className="check">
              {(props) => <input {...props} type="checkbox" checked={stage.allocation.tokenSelection} onChange={(e) => setPruneStage({ allocation: { ...stage.allocation, tokenSelection: e.target.checked } })} />}
            </Field>
          )}
            </>
          )}
        </li>
        <li className={quantize ? 'stage' : 'stage off'}>
          <div className="stage-head">
            <h3>Stage 2 · Quantize</h3>
            <label className="stage-toggle">
              <input type="checkbox" checked={quantize !== undefined} onChange={(e) => setStageEnabled('quantize', e.target.checked)} /> Use quantization
            </label>
          </div>
          {quantize && <QuantizeStageFields stage={quantize} errorOf={(field) => errorOf(quantKey(field))} />}
        </li>
        <li className={attention ? 'stage' : 'stage off'} data-testid="attention-stage">
          <div className="stage-head">
            <h3>Stage 3 · Attention calibration (ACT)</h3>
            <label className="stage-toggle">
              <input
                type="checkbox"
                checked={attention !== undefined}
                disabled={noAttention !== undefined && attention === undefined}
                aria-describedby={noAttention ? 'attention-unavailable' : undefined}
                onChange={(e) => {
                  setListDrafts({});
                  setStageEnabled('attention', e.target.checked);
                }}
              />{' '}
              Use attention calibration (ACT)
            </label>
          </div>
          {noAttention && (
            <p className="muted" id="attention-unavailable" data-testid="attention-unavailable">
              Not available for this model: {noAttention}
            </p>
          )}
          {attention && typeof attentionLayers !== 'string' && (
            <AttentionStageFields stage={attention} layers={attentionLayers} errorOf={(field) => errorOf(attnKey(field))} onDraftProblem={(field, problem) => setListDrafts((d) => ({ ...d, [field]: problem }))} />
          )}
        </li>
      </ol>
      <details className="advanced" open={advanced} onToggle={(e) => setAdvanced((e.target as HTMLDetailsElement).open)}>
        <summary>Calibration and compute</summary>
        {calibrated ? (
          <>
            <Field label="Calibration samples" explain={calibrationMeanings.samples} error={errorOf('calibration.samples')}>
              {(props) => <NumberInput props={props} testId="calib-samples" value={cal.samples} step={1} min={1} onChange={(samples) => setCalibration({ samples })} />}
            </Field>
            <Field label="Calibration mode" explain={`Sequential: ${calibrationMeanings.sequential} One pass: ${calibrationMeanings.oneShot}`} error={errorOf('calibration.mode')}>
              {(props) => (
                <select {...props} value={cal.mode} onChange={(e) => setCalibration({ mode: e.target.value as Recipe['calibration']['mode'] })}>
                  <option value="sequential">sequential (block by block)</option>
                  <option value="one-pass">one pass (faster)</option>
                </select>
              )}
            </Field>
            <Field label="Seed" explain={calibrationMeanings.seed} error={errorOf('seed')}>
              {(props) => <NumberInput props={props} testId="seed" value={recipe.seed} step={1} min={0} onChange={(seed) => setCalibration({ seed })} />}
            </Field>
            {stage.method === 'sparsegpt' && (
              <div className="field-pair">
                <Field label="Block size" explain="SparseGPT prunes this many columns at a time before updating the rest (reference: 128)." error={errorOf(key('sparseGpt.blockSize'))}>
                  {(props) => <NumberInput props={props} value={stage.sparseGpt.blockSize} step={1} min={1} onChange={(blockSize) => setPruneStage({ sparseGpt: { ...stage.sparseGpt, blockSize } })} />}
                </Field>
                <Field label="Damping" explain="Fraction of the mean Hessian diagonal added before inversion (reference: 0.01)." error={errorOf(key('sparseGpt.percDamp'))}>
                  {(props) => <NumberInput props={props} value={stage.sparseGpt.percDamp} step={0.01} min={0} onChange={(percDamp) => setPruneStage({ sparseGpt: { ...stage.sparseGpt, percDamp } })} />}
                </Field>
              </div>
            )}
            {stage.method === 'sparsegpt' && (
              <Field
                label="Quantize in the sweep"
                explain="Joint SparseGPT + GPTQ (the reference's wbits): the kept weights are quantized in the same sweep, 4-bit asymmetric in groups of 32, packed as MatMulNBits. Bits and groups are set in the recipe file's prune stage `quantize`."
                error={errorOf(key('quantize'), key('quantize.bits'), key('quantize.groupSize'), key('quantize.granularity'), key('quantize.export'))}
              >
                {(props) => (
                  <input
                    {...props}
                    type="checkbox"
                    data-testid="joint-quantize"
                    checked={stage.quantize !== undefined}
                    onChange={(e) => setPruneStage({ quantize: e.target.checked ? { bits: 4, symmetric: false, granularity: 'group', groupSize: 32, mseClip: false, export: 'auto' } : undefined })}
                  />
                )}
              </Field>
            )}
          </>
        ) : attention ? (
          <Field label="Seed" explain={`${calibrationMeanings.seed} The head search scores the first samples of this draw; it needs no calibration statistics.`} error={errorOf('seed')}>
            {(props) => <NumberInput props={props} testId="seed" value={recipe.seed} step={1} min={0} onChange={(seed) => setCalibration({ seed })} />}
          </Field>
        ) : (
          <p className="muted">This recipe needs no calibration data.</p>
        )}
        <ComputeFields />
      </details>
      {unplaced.length > 0 && (
        <ul className="problems" data-testid="recipe-problems">
          {unplaced.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      <div className="run-row">
        <button type="button" className="primary" disabled={blocked !== undefined} aria-describedby={blocked ? 'run-blocked' : undefined} onClick={() => void runRecipe()}>
          Run recipe
        </button>
        {blocked && (
          <span id="run-blocked" className="run-blocked" data-testid="run-blocked">
            {blocked}
          </span>
        )}
      </div>
      {refusal && (
        <p className="error" role="alert" data-testid="run-refusal">
          {refusal}
        </p>
      )}
      {problems.length > 0 && <span data-testid="recipe-problem-list" hidden>{problems.join('\n')}</span>}
      <div className="recipe-export">
        <button type="button" onClick={() => void navigator.clipboard?.writeText(command).catch(() => undefined)}>
          Copy CLI command
        </button>
        <a className="button-link" href={`data:application/json;charset=utf-8,${encodeURIComponent(recipeDocument(recipe))}`} download={recipeFile} data-testid="download-recipe">
          Download recipe JSON
        </a>
        <code className="cli" data-testid="cli-command">
          {command}
        </code>
      </div>
    </section>
  );
}

function ComputeFields() {
  const computeBackend = useLab((s) => s.computeBackend);
  const computeDefault = useLab((s) => s.computeDefault);
  const poolSize = useLab((s) => s.poolSize);
  return (
    <>
      <Field label="Layer jobs on" explain={calibrationMeanings.computeBackend} hint={computeDefault && <span data-testid="compute-default">Default: {computeDefault.reason}.</span>}>
        {(props) => (
          <select {...props} value={computeBackend} onChange={(e) => useLab.setState({ computeBackend: e.target.value as ComputeBackend })}>
            <option value="cpu">CPU (WASM SIMD)</option>
            <option value="webgpu">WebGPU kernels</option>
          </select>
        )}
      </Field>
      <Field label="Workers" explain={calibrationMeanings.workers}>
        {(props) => <NumberInput props={props} testId="pool-size" value={poolSize} step={1} min={1} max={16} onChange={(n) => useLab.setState({ poolSize: Number.isInteger(n) && n >= 1 ? Math.min(16, n) : 1 })} />}
      </Field>
    </>
  );
}

/** "Shape · Low rank" and "Shape · BitStack": the shape-changing stages, before pruning. */
function ShapeSections({ recipe, analysis, errorOf }: { recipe: Recipe; analysis: ModelAnalysis | undefined; errorOf: (...fields: string[]) => string | undefined }) {
  const lowRank = lowRankStageOf(recipe);
  const bitStack = bitStackStageOf(recipe);
  const keyOf = (stage: StageSpec | undefined) => (field: string) => errorOf(`stages[${recipe.stages.findIndex((s) => s === stage)}].${field}`);
  return (
    <>
      <li className={lowRank ? 'stage' : 'stage off'} data-testid="lowrank-stage">
        <div className="stage-head">
          <h3>Shape · Low rank</h3>
          <label className="stage-toggle">
            <input type="checkbox" checked={lowRank !== undefined} onChange={(e) => setStageEnabled('lowrank', e.target.checked)} /> Factorise layers
          </label>
        </div>
        {lowRank && <LowRankStageFields stage={lowRank} errorOf={keyOf(lowRank)} />}
      </li>
      <li className={bitStack ? 'stage' : 'stage off'} data-testid="bitstack-stage">
        <div className="stage-head">
          <h3>Shape · BitStack</h3>
          <label className="stage-toggle">
            <input type="checkbox" checked={bitStack !== undefined} onChange={(e) => setStageEnabled('bitstack', e.target.checked)} /> Use BitStack
          </label>
        </div>
        {bitStack && <BitStackStageFields stage={bitStack} analysis={analysis} errorOf={keyOf(bitStack)} />}
      </li>
    </>
  );
}
