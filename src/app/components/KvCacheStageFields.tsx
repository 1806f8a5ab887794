// The recipe builder's "KV cache (simulated)" stage (after quantize): K/V fake quantization in the
// exported graph, IntactKV's sink tokens, and optional per-token activation quantization (the A
// of W4A4KV4). Everything here is simulated: ONNX Runtime computes in float32. docs/kv-binary.md.
import type { ModelAnalysis } from '../../core/model/types';
import type { Recipe } from '../../core/recipe';
import { noAttentionSites } from '../../core/recipe/stages/attention';
import { isKvCacheStage, KV_BITS, KV_GRANULARITIES, KV_TENSORS, type KvCacheStage } from '../../core/recipe/stages/kvcache';
export { kvCacheFieldKeys } from '../../core/recipe/stages/kvcache';
import { docLink } from '../glossary';
import { setKvCacheStage, setStageEnabled } from '../runController';
import { Field } from './Field';
import { NumberInput } from './NumberInput';

const meanings = {
  bits: 'Bits per cached key and value. 8 is close to lossless; 4 is what COMET’s W4A4KV4 asks about.',
  granularity: 'Which values share one scale: each token of each head over its head dimension (per token, QuaRot’s groups), or each head over every token of the call (per head, coarser).',
  symmetric: 'A grid centred on zero, or (unchecked) one that fits each group’s min and max with a zero point — QuaRot’s default for K and V.',
  keepSinks: 'IntactKV: the first tokens’ keys and values stay in full precision. The attention sinks live there, and quantizing them costs more than their share.',
  tensors: 'Quantize keys and values, or only one of them (keys usually suffer more).',
  activations: 'Also fake-quantize the inputs of the quantized linear layers per token (symmetric): the A of W4A4KV4.',
};

function KvCacheStageFields({ stage, errorOf }: { stage: KvCacheStage; errorOf: (field: string) => string | undefined }) {
  return (
    <>
      <div className="field-pair">
        <Field label="K/V bits" explain={meanings.bits} href={docLink('kv-binary')} error={errorOf('bits')}>
          {(props) => (
            <select {...props} data-testid="kv-bits" value={stage.bits} onChange={(e) => setKvCacheStage({ bits: Number(e.target.value) as KvCacheStage['bits'] })}>
              {KV_BITS.map((bits) => (
                <option key={bits} value={bits}>
                  {bits}-bit (simulated)
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Scale shared by" explain={meanings.granularity} error={errorOf('granularity')}>
          {(props) => (
            <select {...props} value={stage.granularity} onChange={(e) => setKvCacheStage({ granularity: e.target.value as KvCacheStage['granularity'] })}>
              {KV_GRANULARITIES.map((g) => (
                <option key={g} value={g}>
                  {g === 'per-token' ? 'each token of each head' : 'each head (all tokens)'}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <div className="field-pair">
        <Field label="Quantize" explain={meanings.tensors} error={errorOf('tensors')}>
          {(props) => (
            <select {...props} value={stage.tensors} onChange={(e) => setKvCacheStage({ tensors: e.target.value as KvCacheStage['tensors'] })}>
              {KV_TENSORS.map((t) => (
                <option key={t} value={t}>
                  {t === 'kv' ? 'keys and values' : t === 'k' ? 'keys only' : 'values only'}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Symmetric grid" explain={meanings.symmetric} className="check" error={errorOf('symmetric')}>
          {(props) => <input {...props} type="checkbox" checked={stage.symmetric} onChange={(e) => setKvCacheStage({ symmetric: e.target.checked })} />}
        </Field>
      </div>
      <Field label="Sink tokens kept in float" explain={meanings.keepSinks} error={errorOf('keepSinks')}>
        {(props) => <NumberInput props={props} testId="kv-sinks" value={stage.keepSinks} step={1} min={0} onChange={(keepSinks) => setKvCacheStage({ keepSinks })} />}
      </Field>
      <Field label="Quantize layer inputs per token" explain={meanings.activations} className="check" error={errorOf('activations') ?? errorOf('activations.bits')}>
        {(props) => <input {...props} type="checkbox" data-testid="kv-activations" checked={stage.activations !== undefined} onChange={(e) => setKvCacheStage({ activations: e.target.checked ? { bits: 4, symmetric: true } : undefined })} />}
      </Field>
      {stage.activations && (
        <Field label="Activation bits" explain={meanings.activations} error={errorOf('activations.bits')}>
          {(props) => (
            <select {...props} value={stage.activations!.bits} onChange={(e) => setKvCacheStage({ activations: { ...stage.activations!, bits: Number(e.target.value) as KvCacheStage['bits'] } })}>
              {KV_BITS.map((bits) => (
                <option key={bits} value={bits}>
                  {bits}-bit per token (simulated)
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
    </>
  );
}

/** The whole stage section: its toggle, why the model offers no K/V when it does not, and its fields. */
export function KvCacheStageSection({ recipe, analysis, errorOf }: { recipe: Recipe; analysis: ModelAnalysis | undefined; errorOf: (field: string) => string | undefined }) {
  const index = recipe.stages.findIndex(isKvCacheStage);
  const stage = index < 0 ? undefined : (recipe.stages[index] as KvCacheStage);
  const unavailable = !analysis ? 'load a model first' : analysis.attention.length === 0 ? noAttentionSites(analysis) : undefined;
  return (
    <li className={stage ? 'stage' : 'stage off'} data-testid="kvcache-stage">
      <div className="stage-head">
        <h3>KV cache (simulated)</h3>
        <label className="stage-toggle">
          <input type="checkbox" checked={stage !== undefined} disabled={unavailable !== undefined && stage === undefined} aria-describedby={unavailable ? 'kvcache-unavailable' : undefined} onChange={(e) => setStageEnabled('kvcache', e.target.checked)} /> Quantize the KV cache (simulated)
        </label>
      </div>
      {unavailable && (
        <p className="muted" id="kvcache-unavailable">
          Not available for this model: {unavailable}
        </p>
      )}
      {stage && <KvCacheStageFields stage={stage} errorOf={(field) => errorOf(`stages[${index}].${field}`)} />}
    </li>
  );
}
