// The recipe builder's "Shape · SliceGPT" section: a toggle (disabled, with the reason, where the
// analysis says SliceGPT cannot run), the kept fraction as a slider with the width it gives, the
// rounding and whether the head's input is sliced too. Problems come from the stage's validation.
import type { ModelAnalysis } from '../../core/model/types';
import type { Recipe } from '../../core/recipe';
import { sliceAnalysisProblem } from '../../core/slice/structure';
import { docLink } from '../glossary';
import { setStageEnabled } from '../runController';
import { keptDimension, setSliceStage, sliceStageOf } from '../sliceStage';
import { Field } from './Field';
import { NumberInput } from './NumberInput';

const meanings = {
  stage:
    'SliceGPT rotates the residual stream onto its principal directions (PCA of the calibration hidden states, block by block) and deletes the least used ones: every weight matrix, embedding and norm gets a smaller dimension, so the exported model is dense, smaller and faster on any runtime. Each residual connection gets a small rotation matrix, which the report counts.',
  keep: 'The share of the embedding dimension kept (the SliceGPT paper’s 1 − slicing). 0.75 keeps 96 of the bundled LM’s 128 dimensions.',
  rounding: 'The kept dimension is rounded down to a multiple of this (the reference’s round interval, 8), which matrix kernels prefer.',
  sliceHead: 'Slice the LM head’s input too. The reference leaves it at full width by default, so the last block writes the full dimension.',
};

export function SliceStageSection({ recipe, analysis, errorOf }: { recipe: Recipe; analysis: ModelAnalysis | undefined; errorOf: (field: string) => string | undefined }) {
  const stage = sliceStageOf(recipe);
  const index = recipe.stages.findIndex((s) => s === stage);
  const unavailable = analysis ? sliceAnalysisProblem(analysis) : 'load a model first';
  const width = stage ? keptDimension(stage, analysis) : undefined;
  const field = (name: string) => errorOf(`stages[${index}].${name}`);
  return (
    <li className={stage ? 'stage' : 'stage off'} data-testid="slice-stage">
      <div className="stage-head">
        <h3>Shape · SliceGPT</h3>
        <label className="stage-toggle">
          <input type="checkbox" checked={stage !== undefined} disabled={unavailable !== null && stage === undefined} aria-describedby={unavailable ? 'slice-unavailable' : undefined} onChange={(e) => setStageEnabled('slice', e.target.checked)} /> Use SliceGPT (rotate and slice)
        </label>
      </div>
      {unavailable && (
        <p className="muted" id="slice-unavailable" data-testid="slice-unavailable">
          Not available for this model: {unavailable}
        </p>
      )}
      {stage && (
        <>
          <p className="muted stage-about">{meanings.stage}</p>
          <Field label="Embedding dimension kept (%)" explain={meanings.keep} href={docLink('slicegpt')} error={field('keep')} hint={width ? `${width.kept} of ${width.hidden} dimensions` : undefined}>
            {(props) => (
              <div className="slider-row">
                <input type="range" min={5} max={100} step={5} value={Number.isFinite(stage.keep) ? Math.min(100, Math.max(5, stage.keep * 100)) : 75} aria-labelledby={`${props.id}-label`} onChange={(e) => setSliceStage({ keep: Number(e.target.value) / 100 })} />
                <NumberInput props={props} testId="slice-keep" value={stage.keep} scale={100} step={5} min={1} max={100} onChange={(keep) => setSliceStage({ keep })} />
              </div>
            )}
          </Field>
          <div className="field-pair">
            <Field label="Round to a multiple of" explain={meanings.rounding} error={field('rounding')}>
              {(props) => <NumberInput props={props} testId="slice-rounding" value={stage.rounding} step={1} min={1} onChange={(rounding) => setSliceStage({ rounding })} />}
            </Field>
            <Field label="Slice the head’s input" explain={meanings.sliceHead} error={field('sliceHead')} className="check">
              {(props) => <input {...props} type="checkbox" checked={stage.sliceHead} onChange={(e) => setSliceStage({ sliceHead: e.target.checked })} />}
            </Field>
          </div>
        </>
      )}
    </li>
  );
}
