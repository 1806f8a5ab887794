// The recipe builder's "Shape · Heads and neurons" section: structured pruning (ZipLM, CFSP) as a
// shape-changing stage (docs/structured.md). A checkbox adds the stage (first in the builder's
// order: shape changes come before weight stages); method, what to remove and the target follow,
// each field with the validator's message for its path.
import { useLab } from '../store';
import type { Recipe } from '../../core/recipe';
import type { StageSpec } from '../../core/recipe/types';
import { isStructuredStage, STRUCTURED_REMOVES, type StructuredStage, type StructuredTarget } from '../../core/recipe/stages/structured';
import { structuredStageOf } from '../structuredForm';
import { docLink } from '../glossary';
import { setStageEnabled } from '../runController';
import { Field } from './Field';
import { NumberInput } from './NumberInput';

/** What each choice means, in the words of docs/structured.md. */
export const structuredMeanings = {
  stage: 'Removes whole attention heads and MLP neurons and exports a dense model with smaller matrices: faster on every runtime, unlike unstructured sparsity.',
  method: {
    ziplm: 'ZipLM: removes the structures whose removal changes the layer output least on the calibration set (OBS saliency), updates the remaining weights, and plans the kept counts per block for the target.',
    cfsp: 'CFSP: prunes MLP neurons only; blocks whose input and output hidden states differ more keep more neurons; neurons ranked by activation norm.',
  },
  remove: 'What the stage may remove. Under grouped-query attention a head is removed with its key-value group.',
  target: {
    speedup: 'Predicted speedup on this browser’s backend, from a latency table measured when the stage runs.',
    size: 'Fraction of all linear-layer parameters kept.',
    sparsity: 'Fraction of the prunable parameters (those that shrink with heads and neurons) removed.',
  },
  update: 'ZipLM’s OBS correction of the remaining output/down-projection weights. Off: the columns are only cut, so you can see what the update buys.',
  neuronMultiple: 'Kept neurons per block are a multiple of this (tiled kernels and N:M stages prefer multiples of 8).',
  dampening: 'Fraction of the Hessian’s mean diagonal added before inverting (ZipLM’s percdamp).',
} as const;

/** Changes fields of the recipe's structured stage. */
export function setStructuredStage(patch: Partial<Omit<StructuredStage, 'kind'>>): void {
  useLab.setState((s) => ({ recipe: { ...s.recipe, stages: s.recipe.stages.map((stage: StageSpec) => (isStructuredStage(stage) ? { ...stage, ...patch } : stage)) }, refusal: undefined }));
}

const TARGET_DEFAULTS: Record<StructuredTarget['kind'], StructuredTarget> = {
  speedup: { kind: 'speedup', speedup: 1.5 },
  size: { kind: 'size', size: 0.7 },
  sparsity: { kind: 'sparsity', sparsity: 0.3 },
};

const targetValue = (t: StructuredTarget) => (t.kind === 'speedup' ? t.speedup : t.kind === 'size' ? t.size : t.sparsity);
const withValue = (t: StructuredTarget, v: number): StructuredTarget => (t.kind === 'speedup' ? { kind: 'speedup', speedup: v } : t.kind === 'size' ? { kind: 'size', size: v } : { kind: 'sparsity', sparsity: v });

export interface StructuredStageSectionProps {
  recipe: Recipe;
  /** The problem of a field of this stage (path relative to the stage), if any. */
  errorOf: (field: string) => string | undefined;
}

/** The whole builder section (one <li> of the stage list). */
export function StructuredStageSection({ recipe, errorOf }: StructuredStageSectionProps) {
  const stage = structuredStageOf(recipe);
  return (
    <li className={stage ? 'stage' : 'stage off'} data-testid="structured-stage">
      <div className="stage-head">
        <h3>Shape · Heads and neurons</h3>
        <label className="stage-toggle">
          <input type="checkbox" data-testid="structured-enable" checked={stage !== undefined} onChange={(e) => setStageEnabled('structured', e.target.checked)} /> Remove heads and neurons
        </label>
      </div>
      {stage && <StructuredStageFields stage={stage} errorOf={errorOf} />}
    </li>
  );
}

export function StructuredStageFields({ stage, errorOf }: { stage: StructuredStage; errorOf: (field: string) => string | undefined }) {
  const t = stage.target;
  const href = docLink('structured');
  return (
    <>
      <p className="muted stage-about">{structuredMeanings.stage}</p>
      <div className="field-pair">
        <Field label="Method" explain={structuredMeanings.method[stage.method]} href={href} error={errorOf('method')}>
          {(props) => (
            <select {...props} data-testid="structured-method" value={stage.method} onChange={(e) => setStructuredStage(e.target.value === 'cfsp' ? { method: 'cfsp', remove: 'neurons' } : { method: 'ziplm' })}>
              <option value="ziplm">ZipLM (Hessian-aware, OBS)</option>
              <option value="cfsp">CFSP (coarse-to-fine, neurons)</option>
            </select>
          )}
        </Field>
        <Field label="Remove" explain={structuredMeanings.remove} href={href} error={errorOf('remove')}>
          {(props) => (
            <select {...props} data-testid="structured-remove" value={stage.remove} onChange={(e) => setStructuredStage({ remove: e.target.value as StructuredStage['remove'] })}>
              {STRUCTURED_REMOVES.map((r) => (
                <option key={r} value={r} disabled={stage.method === 'cfsp' && r !== 'neurons'}>
                  {r === 'both' ? 'heads and neurons' : r}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <div className="field-pair">
        <Field label="Target" explain={structuredMeanings.target[t.kind]} href={href} error={errorOf('target')}>
          {(props) => (
            <select {...props} data-testid="structured-target-kind" value={t.kind} onChange={(e) => setStructuredStage({ target: TARGET_DEFAULTS[e.target.value as StructuredTarget['kind']] })}>
              <option value="speedup">speedup (measured latency)</option>
              <option value="size">size kept</option>
              <option value="sparsity">structured sparsity</option>
            </select>
          )}
        </Field>
        <Field label={t.kind === 'speedup' ? 'Speedup (×)' : t.kind === 'size' ? 'Linear parameters kept' : 'Prunable parameters removed'} explain={structuredMeanings.target[t.kind]} error={errorOf(`target.${t.kind}`)}>
          {(props) => <NumberInput props={props} testId="structured-target" value={targetValue(t)} step={t.kind === 'speedup' ? 0.1 : 0.05} min={t.kind === 'speedup' ? 1 : 0} max={t.kind === 'speedup' ? undefined : 1} onChange={(v) => setStructuredStage({ target: withValue(t, v) })} />}
        </Field>
      </div>
      {stage.method === 'ziplm' && (
        <Field label="OBS weight update" explain={structuredMeanings.update} error={errorOf('update')} className="check">
          {(props) => <input {...props} type="checkbox" data-testid="structured-update" checked={stage.update} onChange={(e) => setStructuredStage({ update: e.target.checked })} />}
        </Field>
      )}
    </>
  );
}
