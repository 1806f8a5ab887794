// Stage 2 of the recipe builder: quantization after (or without) pruning. Fields a method ignores
// are hidden; each invalid field shows its message (the validator's field path).
import { BINARIZERS, MX_FORMAT_NAMES, QUANT_EXPORTS, QUIK_ACTIVATION_BITS, type QuantizeStage } from '../../core/recipe/stages/quantize';
import { defaultMixedPrecision } from '../../core/recipe/stages/mixedPrecision';
import { binarizerMeanings, docLink, quantMeanings, quantMethodMeanings } from '../glossary';
import { setQuantizeStage } from '../runController';
import { Field } from './Field';
import { NumberInput } from './NumberInput';

/**
 * Picking QUIK with groups switches to per-row scales, QUIK's own default: its groups run over the
 * C_in − k integer columns, which groups of 32 rarely divide (k = 8 on 128-wide layers: 120).
 */
const methodPatch = (stage: QuantizeStage, method: QuantizeStage['method']): Partial<QuantizeStage> => {
  if (method === 'quik' && stage.method !== 'quik' && stage.granularity === 'group') return { method, granularity: 'row' };
  // Binary: BiBench's α is per output row; its export is always simulated.
  if (method === 'binary' && stage.method !== 'binary') return { method, binarizer: stage.binarizer ?? 'xnor', granularity: 'row', export: 'auto', mixed: undefined };
  return { method };
};

/** The 'binary' method's fields: which BiBench binarizer, and what shares one α. */
function BinaryFields({ stage, errorOf }: { stage: QuantizeStage; errorOf: (field: string) => string | undefined }) {
  const binarizer = stage.binarizer ?? 'xnor';
  return (
    <>
      <Field label="Binarizer" explain={binarizerMeanings[binarizer].explain} href={docLink('kv-binary')} error={errorOf('binarizer')}>
        {(props) => (
          <select {...props} data-testid="quant-binarizer" value={binarizer} onChange={(e) => setQuantizeStage({ binarizer: e.target.value as NonNullable<QuantizeStage['binarizer']> })}>
            {BINARIZERS.map((b) => (
              <option key={b} value={b}>
                {binarizerMeanings[b].label}
              </option>
            ))}
          </select>
        )}
      </Field>
      {binarizer !== 'bnn' && (
        <Field label="α shared by" explain={quantMeanings.granularity} error={errorOf('granularity')}>
          {(props) => (
            <select {...props} value={stage.granularity} onChange={(e) => setQuantizeStage({ granularity: e.target.value as QuantizeStage['granularity'] })}>
              <option value="row">each output row (BiBench)</option>
              <option value="tensor">the whole matrix</option>
              <option value="group">each group of inputs</option>
            </select>
          )}
        </Field>
      )}
      {binarizer !== 'bnn' && stage.granularity === 'group' && (
        <Field label="Group size" explain={quantMeanings.groupSize} error={errorOf('groupSize')}>
          {(props) => <NumberInput props={props} testId="quant-group" value={stage.groupSize} step={16} min={2} onChange={(groupSize) => setQuantizeStage({ groupSize })} />}
        </Field>
      )}
    </>
  );
}

export function QuantizeStageFields({ stage, errorOf }: { stage: QuantizeStage; errorOf: (field: string) => string | undefined }) {
  const integer = stage.method !== 'mx' && stage.method !== 'binary';
  return (
    <>
      <Field label="Quantization method" explain={quantMethodMeanings[stage.method].explain} href={docLink('quantization')} error={errorOf('method')}>
        {(props) => (
          <select {...props} value={stage.method} onChange={(e) => setQuantizeStage(methodPatch(stage, e.target.value as QuantizeStage['method']))}>
            {Object.entries(quantMethodMeanings).map(([m, meaning]) => (
              <option key={m} value={m}>
                {meaning.label}
              </option>
            ))}
          </select>
        )}
      </Field>
      {integer ? (
        <>
          <div className="field-pair">
            <Field label="Bits" explain={quantMeanings.bits} error={errorOf('bits')}>
              {(props) => <NumberInput props={props} testId="quant-bits" value={stage.bits} step={1} min={2} max={8} onChange={(bits) => setQuantizeStage({ bits })} />}
            </Field>
            <Field label="Symmetric grid" explain={quantMeanings.symmetric} className="check">
              {(props) => <input {...props} type="checkbox" checked={stage.symmetric} onChange={(e) => setQuantizeStage({ symmetric: e.target.checked })} />}
            </Field>
          </div>
          <Field label="Mixed precision" explain={quantMeanings.mixed} className="check" hint={stage.mixed ? `widths from ${stage.mixed.candidates.join(', ')} bits, chosen per layer (Bits is not used)` : undefined} error={errorOf('mixed')}>
            {(props) => <input {...props} type="checkbox" data-testid="quant-mixed" checked={stage.mixed !== undefined} onChange={(e) => setQuantizeStage({ mixed: e.target.checked ? defaultMixedPrecision() : undefined })} />}
          </Field>
          {stage.mixed && (
            <Field label="Target average bits" explain={quantMeanings.targetBits} error={errorOf('mixed.targetBits')}>
              {(props) => <NumberInput props={props} testId="quant-target-bits" value={stage.mixed!.targetBits} step={0.25} min={2} max={8} onChange={(targetBits) => setQuantizeStage({ mixed: { ...stage.mixed!, targetBits } })} />}
            </Field>
          )}
          <Field label="Scale shared by" explain={quantMeanings.granularity} error={errorOf('granularity')}>
            {(props) => (
              <select {...props} value={stage.granularity} onChange={(e) => setQuantizeStage({ granularity: e.target.value as QuantizeStage['granularity'] })}>
                <option value="group">each group of inputs</option>
                <option value="row">each output row</option>
                <option value="tensor">the whole matrix</option>
              </select>
            )}
          </Field>
          {stage.granularity === 'group' && (
            <Field label="Group size" explain={quantMeanings.groupSize} error={errorOf('groupSize')}>
              {(props) => <NumberInput props={props} testId="quant-group" value={stage.groupSize} step={16} min={2} onChange={(groupSize) => setQuantizeStage({ groupSize })} />}
            </Field>
          )}
          <Field label="MSE clip search" explain={quantMeanings.mseClip} className="check">
            {(props) => <input {...props} type="checkbox" checked={stage.mseClip} onChange={(e) => setQuantizeStage({ mseClip: e.target.checked })} />}
          </Field>
          {stage.method === 'gptq' && (
            <Field label="Act-order" explain={quantMeanings.actOrder} className="check">
              {(props) => <input {...props} type="checkbox" checked={stage.gptq.actOrder} onChange={(e) => setQuantizeStage({ gptq: { ...stage.gptq, actOrder: e.target.checked } })} />}
            </Field>
          )}
          {stage.method === 'quik' && (
            <div className="field-pair">
              <Field label="Outlier columns" explain={quantMeanings.outlierColumns} error={errorOf('quik.outlierColumns')}>
                {(props) => <NumberInput props={props} testId="quant-quik-outliers" value={stage.quik.outlierColumns} step={8} min={0} onChange={(outlierColumns) => setQuantizeStage({ quik: { ...stage.quik, outlierColumns } })} />}
              </Field>
              <Field label="Activation bits" explain={quantMeanings.activationBits} error={errorOf('quik.activationBits')}>
                {(props) => (
                  <select {...props} value={stage.quik.activationBits} onChange={(e) => setQuantizeStage({ quik: { ...stage.quik, activationBits: Number(e.target.value) as QuantizeStage['quik']['activationBits'] } })}>
                    {QUIK_ACTIVATION_BITS.map((bits) => (
                      <option key={bits} value={bits}>
                        {bits === 0 ? 'off (float)' : `${bits}-bit per token (simulated)`}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            </div>
          )}
        </>
      ) : stage.method === 'binary' ? (
        <BinaryFields stage={stage} errorOf={errorOf} />
      ) : (
        <Field label="MX format" explain={quantMethodMeanings.mx.explain} error={errorOf('mxFormat')}>
          {(props) => (
            <select {...props} value={stage.mxFormat} onChange={(e) => setQuantizeStage({ mxFormat: e.target.value as QuantizeStage['mxFormat'] })}>
              {MX_FORMAT_NAMES.map((name) => (
                <option key={name} value={name}>
                  {name.toUpperCase()}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      <Field label="Export" explain={quantMeanings.export} href={docLink('quantized-export')} error={errorOf('export')}>
        {(props) => (
          <select {...props} value={stage.export} onChange={(e) => setQuantizeStage({ export: e.target.value as QuantizeStage['export'] })}>
            {QUANT_EXPORTS.map((mode) => (
              <option key={mode} value={mode}>
                {mode === 'auto' ? 'auto (packed where possible)' : mode === 'packed' ? 'packed (MatMulNBits)' : 'simulated (float weights)'}
              </option>
            ))}
          </select>
        )}
      </Field>
    </>
  );
}
