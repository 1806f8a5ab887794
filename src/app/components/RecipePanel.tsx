import { useMemo } from 'react';
import { patternSparsity, type SparsityPattern } from '../../core/prune';
import type { ComputeBackend } from '../../core/job';
import { validateRecipe, type PruneStage, type Recipe } from '../../core/recipe';
import { cancelPrune, pruneStageOf, runPrune, setCalibration, setPruneStage } from '../pruneController';
import { useLab } from '../store';

type PatternChoice = 'unstructured' | 'nm' | 'vnm';

function patternWith(kind: PatternChoice, old: SparsityPattern): SparsityPattern {
  if (kind === 'unstructured') return { kind, sparsity: old.kind === 'unstructured' ? old.sparsity : 0.5 };
  const m = old.kind === 'unstructured' ? (kind === 'nm' ? 4 : 8) : old.m;
  return kind === 'nm' ? { kind, n: old.kind === 'nm' ? old.n : 2, m } : { kind, v: old.kind === 'vnm' ? old.v : 16, n: 2, m };
}

function NumberField({ label, value, step, min, max, onChange, testId }: { label: string; value: number; step: number; min?: number; max?: number; onChange: (v: number) => void; testId?: string }) {
  return (
    <label className="field">
      {label}
      <input type="number" value={Number.isFinite(value) ? value : ''} step={step} min={min} max={max} data-testid={testId} onChange={(e) => onChange(e.target.value === '' ? NaN : Number(e.target.value))} />
    </label>
  );
}

export function RecipePanel() {
  const recipe = useLab((s) => s.recipe);
  const analysis = useLab((s) => s.model.analysis);
  const poolSize = useLab((s) => s.poolSize);
  const computeBackend = useLab((s) => s.computeBackend);
  const running = useLab((s) => s.pruneRun.status === 'running');
  // Impossible recipes are refused before any work starts: derived, never stored.
  const problems = useMemo(() => (analysis ? validateRecipe(recipe, analysis) : ['Load a model first.']), [recipe, analysis]);
  // The panel edits the recipe's first prune stage; the run sends the whole staged document.
  const stage = pruneStageOf(recipe);
  const pattern = stage.pattern;
  const implied = pattern.kind === 'unstructured' ? undefined : patternSparsity(pattern);
  const cal = recipe.calibration;
  return (
    <section className="panel recipe" aria-labelledby="recipe-title">
      <h2 id="recipe-title">Pruning recipe</h2>
      <div className="fields">
        <label className="field">
          Method
          <select aria-label="Method" value={stage.method} onChange={(e) => setPruneStage({ method: e.target.value as PruneStage['method'] })}>
            <option value="magnitude">Magnitude</option>
            <option value="wanda">Wanda</option>
            <option value="sparsegpt">SparseGPT</option>
          </select>
        </label>
        {stage.method === 'magnitude' && (
          <label className="field">
            Compare within
            <select aria-label="Magnitude scope" value={stage.magnitudeScope} onChange={(e) => setPruneStage({ magnitudeScope: e.target.value as PruneStage['magnitudeScope'] })}>
              <option value="layer">each layer</option>
              <option value="row">each output row</option>
              <option value="global">all layers (global)</option>
            </select>
          </label>
        )}
        <label className="field">
          Pattern
          <select aria-label="Pattern" value={pattern.kind} onChange={(e) => setPruneStage({ pattern: patternWith(e.target.value as PatternChoice, pattern) })}>
            <option value="unstructured">unstructured</option>
            <option value="nm">N:M</option>
            <option value="vnm">V:N:M (VENOM)</option>
          </select>
        </label>
        {pattern.kind === 'nm' && (
          <>
            <NumberField label="N (kept)" testId="pattern-n" value={pattern.n} step={1} min={1} onChange={(n) => setPruneStage({ pattern: { ...pattern, n } })} />
            <NumberField label="M (group)" testId="pattern-m" value={pattern.m} step={1} min={2} onChange={(m) => setPruneStage({ pattern: { ...pattern, m } })} />
          </>
        )}
        {pattern.kind === 'vnm' && (
          <>
            <NumberField label="V (rows)" testId="pattern-v" value={pattern.v} step={1} min={1} onChange={(v) => setPruneStage({ pattern: { ...pattern, v } })} />
            <NumberField label="M (group)" testId="pattern-m" value={pattern.m} step={1} min={4} onChange={(m) => setPruneStage({ pattern: { ...pattern, m } })} />
          </>
        )}
        {pattern.kind === 'unstructured' ? (
          <NumberField label="Target sparsity" testId="sparsity" value={pattern.sparsity} step={0.05} min={0} max={0.99} onChange={(sparsity) => setPruneStage({ pattern: { kind: 'unstructured', sparsity } })} />
        ) : (
          <p className="field muted">Sparsity {((implied ?? 0) * 100).toFixed(1)} % (set by the pattern)</p>
        )}
        <label className="field">
          Allocation
          <select aria-label="Allocation" value={stage.allocation.kind} onChange={(e) => setPruneStage({ allocation: { ...stage.allocation, kind: e.target.value as PruneStage['allocation']['kind'] } })}>
            <option value="uniform">uniform</option>
            <option value="owl">OWL (outlier-weighted)</option>
            <option value="tamp">TAMP (output diversity)</option>
            <option value="sensitivity">sensitivity (Edge-LLM)</option>
          </select>
        </label>
        {stage.allocation.kind === 'tamp' && (
          <label className="field check">
            <input type="checkbox" checked={stage.allocation.tokenSelection} onChange={(e) => setPruneStage({ allocation: { ...stage.allocation, tokenSelection: e.target.checked } })} />
            attention-guided token selection
          </label>
        )}
        <NumberField label="Calibration samples" testId="calib-samples" value={cal.samples} step={1} min={1} onChange={(samples) => setCalibration({ samples })} />
        <label className="field">
          Calibration
          <select aria-label="Calibration mode" value={cal.mode} onChange={(e) => setCalibration({ mode: e.target.value as Recipe['calibration']['mode'] })}>
            <option value="sequential">sequential (block by block, as the papers)</option>
            <option value="one-pass">one pass (faster)</option>
          </select>
        </label>
        <NumberField label="Seed" value={recipe.seed} step={1} min={0} onChange={(seed) => setCalibration({ seed })} />
        <label className="field">
          Layer jobs on
          <select aria-label="Compute backend" value={computeBackend} onChange={(e) => useLab.setState({ computeBackend: e.target.value as ComputeBackend })}>
            <option value="webgpu">WebGPU kernels</option>
            <option value="cpu">CPU</option>
          </select>
        </label>
        <NumberField label="Workers" testId="pool-size" value={poolSize} step={1} min={1} max={16} onChange={(n) => useLab.setState({ poolSize: Number.isInteger(n) && n >= 1 ? Math.min(16, n) : 1 })} />
      </div>
      {problems.length > 0 && (
        <ul className="problems" data-testid="recipe-problems">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      <div className="actions">
        {running ? (
          <button type="button" onClick={cancelPrune}>
            Cancel
          </button>
        ) : (
          <button type="button" className="primary" disabled={problems.length > 0} onClick={() => void runPrune()}>
            Run pruning
          </button>
        )}
      </div>
    </section>
  );
}
