// "Shape · Low rank": each chosen linear layer becomes two thin MatMuls (docs/lowrank.md). The rank
// rule's value field follows the rule; ASVD's α shows only for ASVD.
import { LOW_RANK_METHODS, type LowRankMethod } from '../../core/lowrank/factorize';
import type { RankChoice } from '../../core/lowrank/rank';
import { defaultRankChoice, type LowRankStage } from '../../core/recipe/stages/lowrank';
import { docLink } from '../glossary';
import { setLowRankStage } from '../shapeStageControls';
import { Field } from './Field';
import { NumberInput } from './NumberInput';

const METHOD_LABELS: Record<LowRankMethod, { label: string; explain: string }> = {
  svd: { label: 'SVD (plain truncation)', explain: 'Keeps the largest singular values of each weight; ignores the activations.' },
  asvd: { label: 'ASVD (activation-aware)', explain: 'Scales each input channel by its mean activation magnitude^α before the SVD, so channels with large inputs lose less.' },
  'svd-llm': { label: 'SVD-LLM (whitened)', explain: 'Whitens the inputs with the Cholesky factor of XXᵀ, so dropping a singular value costs exactly its square in output error.' },
};

const RANK_LABELS: Record<RankChoice['kind'], string> = {
  rank: 'a fixed rank',
  energy: 'energy kept (σ²)',
  ratio: 'parameters kept per layer',
  sensitivity: 'parameters kept overall, by sensitivity',
};

export function LowRankStageFields({ stage, errorOf }: { stage: LowRankStage; errorOf: (field: string) => string | undefined }) {
  const { rank } = stage;
  return (
    <>
      <Field label="Low-rank method" explain={METHOD_LABELS[stage.method].explain} href={docLink('lowrank')} error={errorOf('method')}>
        {(props) => (
          <select {...props} value={stage.method} onChange={(e) => setLowRankStage({ method: e.target.value as LowRankMethod })}>
            {LOW_RANK_METHODS.map((m) => (
              <option key={m} value={m}>
                {METHOD_LABELS[m].label}
              </option>
            ))}
          </select>
        )}
      </Field>
      {stage.method === 'asvd' && (
        <Field label="ASVD α" explain="Exponent on the mean |x| of each input channel (the reference uses 0.5)." error={errorOf('alpha')}>
          {(props) => <NumberInput props={props} testId="lowrank-alpha" value={stage.alpha} step={0.25} min={0} max={1} onChange={(alpha) => setLowRankStage({ alpha })} />}
        </Field>
      )}
      <Field label="Rank chosen by" explain="A layer whose rank would not make it smaller stays dense; the report lists each layer's rank." error={errorOf('rank')}>
        {(props) => (
          <select {...props} data-testid="lowrank-rule" value={rank.kind} onChange={(e) => setLowRankStage({ rank: defaultRankChoice(e.target.value as RankChoice['kind']) })}>
            {(Object.keys(RANK_LABELS) as RankChoice['kind'][]).map((kind) => (
              <option key={kind} value={kind}>
                {RANK_LABELS[kind]}
              </option>
            ))}
          </select>
        )}
      </Field>
      {rank.kind === 'rank' && (
        <Field label="Rank" error={errorOf('rank.rank')}>
          {(props) => <NumberInput props={props} testId="lowrank-rank" value={rank.rank} step={8} min={1} onChange={(value) => setLowRankStage({ rank: { kind: 'rank', rank: value } })} />}
        </Field>
      )}
      {rank.kind === 'energy' && (
        <Field label="Energy kept (%)" error={errorOf('rank.energy')}>
          {(props) => <NumberInput props={props} testId="lowrank-energy" value={rank.energy} scale={100} step={1} min={1} max={100} onChange={(energy) => setLowRankStage({ rank: { kind: 'energy', energy } })} />}
        </Field>
      )}
      {(rank.kind === 'ratio' || rank.kind === 'sensitivity') && (
        <Field label="Parameters kept (%)" explain={rank.kind === 'ratio' ? 'Each layer keeps this share: r = ratio · C_out · C_in / (C_out + C_in), as SVD-LLM defines it.' : 'All chosen layers together keep this share; the ranks go where the calibration error falls most per parameter.'} error={errorOf('rank.ratio')}>
          {(props) => (
            <div className="slider-row">
              <input type="range" min={5} max={95} step={5} value={Number.isFinite(rank.ratio) ? Math.round(rank.ratio * 100) : 80} aria-labelledby={`${props.id}-label`} onChange={(e) => setLowRankStage({ rank: { kind: rank.kind, ratio: Number(e.target.value) / 100 } })} />
              <NumberInput props={props} testId="lowrank-ratio" value={rank.ratio} scale={100} step={5} min={1} max={99} onChange={(ratio) => setLowRankStage({ rank: { kind: rank.kind, ratio } })} />
            </div>
          )}
        </Field>
      )}
      <Field label="Include the output head" className="check" error={errorOf('layers')}>
        {(props) => <input {...props} type="checkbox" checked={stage.layers.includeHead} onChange={(e) => setLowRankStage({ layers: { ...stage.layers, includeHead: e.target.checked } })} />}
      </Field>
    </>
  );
}
