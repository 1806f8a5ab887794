// The prune stage's block pattern (SparseByteNN's 1×4 / 4×1 groups): the group shape and the share
// of groups removed. Its problems arrive under `pattern` / `sparsity` (problemsByField).
import type { SparsityPattern } from '../../core/prune';
import { Field } from './Field';
import { NumberInput } from './NumberInput';

type BlockPattern = Extract<SparsityPattern, { kind: 'block' }>;

const SHAPES = [
  { value: '1x4', rows: 1, cols: 4, label: '1×4 — 4 inputs of one output row' },
  { value: '4x1', rows: 4, cols: 1, label: '4×1 — 4 output rows of one input' },
] as const;

export function BlockPatternFields({ pattern, error, onChange }: { pattern: BlockPattern; error?: string; onChange: (pattern: BlockPattern) => void }) {
  return (
    <div className="pattern-group" role="group" aria-label="Block pattern">
      <Field label="Group shape" explain="Which 4 weights are kept or removed together: what a block-sparse kernel reads with one index.">
        {(props) => (
          <select
            {...props}
            data-testid="block-shape"
            value={`${pattern.rows}x${pattern.cols}`}
            onChange={(e) => {
              const shape = SHAPES.find((s) => s.value === e.target.value) ?? SHAPES[0];
              onChange({ ...pattern, rows: shape.rows, cols: shape.cols });
            }}
          >
            {SHAPES.map((shape) => (
              <option key={shape.value} value={shape.value}>
                {shape.label}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Target sparsity (%)" explain="The share of each pruned layer’s groups (and so of its weights) set to zero." error={error}>
        {(props) => (
          <div className="slider-row">
            <input type="range" min={0} max={95} step={1} value={Number.isFinite(pattern.sparsity) ? Math.min(95, pattern.sparsity * 100) : 0} aria-labelledby={`${props.id}-label`} onChange={(e) => onChange({ ...pattern, sparsity: Number(e.target.value) / 100 })} />
            <NumberInput props={props} testId="sparsity" value={pattern.sparsity} scale={100} step={5} min={0} max={99} onChange={(sparsity) => onChange({ ...pattern, sparsity })} />
          </div>
        )}
      </Field>
    </div>
  );
}
