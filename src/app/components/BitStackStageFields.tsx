// "Shape · BitStack": the size slider moves over the memory the chosen layers' blocks may take, one
// step per smallest block (for the bundled LM's 128 × 128 layers, 2,560 bytes: 2,048 of sign bits
// and 512 of u, v in float16), from one block per layer to every step of every layer. docs/lowrank.md#bitstack.
import { useMemo } from 'react';
import type { ModelAnalysis } from '../../core/model/types';
import { BITSTACK_EXPORTS, bitStackLayers, bitStackRange, budgetBytes, MAX_BITSTACK_STEPS, type BitStackStage } from '../../core/recipe/stages/bitstack';
import { docLink } from '../glossary';
import { setBitStackStage } from '../shapeStageControls';
import { Field } from './Field';
import { NumberInput } from './NumberInput';

const kilobytes = (bytes: number) => `${(bytes / 1024).toLocaleString('en', { maximumFractionDigits: 1 })} KiB`;

export function BitStackStageFields({ stage, analysis, errorOf }: { stage: BitStackStage; analysis: ModelAnalysis | undefined; errorOf: (field: string) => string | undefined }) {
  const range = useMemo(() => (analysis ? bitStackRange(bitStackLayers(stage, analysis), stage.steps, stage.k) : undefined), [analysis, stage]);
  const bytes = range && analysis ? budgetBytes(stage, bitStackLayers(stage, analysis)) : undefined;
  return (
    <>
      <Field
        label="Size of the blocks (bytes)"
        explain="BitStack stacks ~1-bit blocks of every layer by importance; the budget keeps the prefix that fits. The size is ANALYTIC: sign bits plus u, v in float16."
        href={docLink('lowrank', 'bitstack')}
        error={errorOf('budget.bytes') ?? errorOf('budget.fraction') ?? errorOf('budget')}
        hint={range && bytes !== undefined ? `${kilobytes(bytes)} of ${kilobytes(range.denseBytes)} dense (${((100 * bytes) / Math.max(1, range.denseBytes)).toFixed(1)} %, ${((32 * bytes) / Math.max(1, range.denseBytes)).toFixed(2)} bits/weight); steps of ${kilobytes(range.stepBytes)}` : 'load a model to size the blocks'}
      >
        {(props) =>
          range && bytes !== undefined ? (
            <div className="slider-row">
              <input type="range" data-testid="bitstack-slider" min={range.minBytes} max={range.maxBytes} step={range.stepBytes} value={Math.min(range.maxBytes, Math.max(range.minBytes, bytes))} aria-labelledby={`${props.id}-label`} onChange={(e) => setBitStackStage({ budget: { kind: 'bytes', bytes: Number(e.target.value) } })} />
              <NumberInput props={props} testId="bitstack-bytes" value={bytes} step={range.stepBytes} min={1} onChange={(value) => setBitStackStage({ budget: { kind: 'bytes', bytes: Math.round(value) } })} />
            </div>
          ) : (
            <NumberInput props={props} testId="bitstack-fraction" value={stage.budget.kind === 'fraction' ? stage.budget.fraction : 0.5} scale={100} step={5} min={1} max={100} onChange={(fraction) => setBitStackStage({ budget: { kind: 'fraction', fraction } })} />
          )
        }
      </Field>
      <div className="field-pair">
        <Field label="Steps per layer" explain="Decomposition steps: the most blocks a layer can get (the reference uses 16)." error={errorOf('steps')}>
          {(props) => <NumberInput props={props} testId="bitstack-steps" value={stage.steps} step={1} min={1} max={MAX_BITSTACK_STEPS} onChange={(steps) => setBitStackStage({ steps })} />}
        </Field>
        <Field label="Rank per block (k)" explain="Singular triplets of |W| per block; each costs (C_out + C_in) float16 values." error={errorOf('k')}>
          {(props) => <NumberInput props={props} testId="bitstack-k" value={stage.k} step={1} min={1} onChange={(k) => setBitStackStage({ k })} />}
        </Field>
      </div>
      <Field label="Export" explain="Packed: sign bits and u, v rebuilt by standard ONNX ops, a smaller file. Dense: the reconstruction as floats (the file is not smaller)." error={errorOf('export')}>
        {(props) => (
          <select {...props} value={stage.export} onChange={(e) => setBitStackStage({ export: e.target.value as BitStackStage['export'] })}>
            {BITSTACK_EXPORTS.map((mode) => (
              <option key={mode} value={mode}>
                {mode === 'packed' ? 'packed sign blocks (smaller file)' : 'dense floats (same size)'}
              </option>
            ))}
          </select>
        )}
      </Field>
    </>
  );
}
