// Stage 3 of the recipe builder: ACT (attention calibration). Fields the chosen mode ignores are
// hidden; each invalid field shows its message (the validator's field path, or the list parser's
// message while the text is not a list yet).
import { useState } from 'react';
import { referenceSkipLayers, type AttentionLayer } from '../../core/attention/headSearch';
import type { AttentionStage } from '../../core/recipe/stages/attention';
import { actMeanings, docLink } from '../glossary';
import { formatHeadList, parseHeadList, parseLayerList } from '../recipeForm';
import { setAttentionStage } from '../runController';
import { Field, type FieldControlProps } from './Field';
import { NumberInput } from './NumberInput';

/** Relative thresholds start at α = 2: a key with twice a uniform row's share. */
const DEFAULT_ALPHA = 2;

export interface AttentionStageFieldsProps {
  stage: AttentionStage;
  /** The model's attention layers (from the analysis), for the reference skip list. */
  layers: AttentionLayer[];
  /** The validation problem of a field (path relative to the stage), if any. */
  errorOf: (field: string) => string | undefined;
  /** Reports a list field's text that does not parse (undefined once it does): it blocks Run. */
  onDraftProblem: (field: 'heads' | 'skipLayers', problem: string | undefined) => void;
}

export function AttentionStageFields({ stage, layers, errorOf, onDraftProblem }: AttentionStageFieldsProps) {
  const searching = stage.heads === 'search';
  const givenHeads = Array.isArray(stage.heads) ? stage.heads : undefined;
  const sinkField = stage.sink.kind === 'tau' ? 'sink.tau' : 'sink.alpha';
  return (
    <>
      <p className="muted stage-about">{actMeanings.stage}</p>
      <div className="field-pair">
        <Field label="β (attention kept on a hidden sink)" explain={actMeanings.beta} href={docLink('attention')} error={errorOf('beta')}>
          {(props) => <NumberInput props={props} testId="act-beta" value={stage.beta} step={0.1} min={0} max={1} onChange={(beta) => setAttentionStage({ beta })} />}
        </Field>
        <Field label="Sink threshold" explain={actMeanings.sinkKind} href={docLink('attention')}>
          {(props) => (
            <select {...props} value={stage.sink.kind} onChange={(e) => setAttentionStage({ sink: e.target.value === 'tau' ? { kind: 'tau', tau: 0.1 } : { kind: 'alpha', alpha: DEFAULT_ALPHA } })}>
              <option value="tau">absolute τ (reference)</option>
              <option value="alpha">relative α/T</option>
            </select>
          )}
        </Field>
      </div>
      <Field label={stage.sink.kind === 'tau' ? 'τ' : 'α'} explain={stage.sink.kind === 'tau' ? actMeanings.tau : actMeanings.alpha} error={errorOf(sinkField)}>
        {(props) =>
          stage.sink.kind === 'tau' ? (
            <NumberInput props={props} testId="act-tau" value={stage.sink.tau} step={0.01} min={0} max={1} onChange={(tau) => setAttentionStage({ sink: { kind: 'tau', tau } })} />
          ) : (
            <NumberInput props={props} testId="act-alpha" value={stage.sink.alpha} step={0.5} min={0} onChange={(alpha) => setAttentionStage({ sink: { kind: 'alpha', alpha } })} />
          )
        }
      </Field>
      <Field label="Heads" explain={actMeanings.heads} href={docLink('attention')}>
        {(props) => (
          <select {...props} value={searching ? 'search' : 'given'} onChange={(e) => setAttentionStage({ heads: e.target.value === 'search' ? 'search' : [] })}>
            <option value="search">search on calibration samples</option>
            <option value="given">given heads</option>
          </select>
        )}
      </Field>
      {givenHeads && (
        <Field label="Heads to calibrate" explain={actMeanings.headList} error={errorOf('heads')}>
          {(props) => (
            <ListInput
              props={props}
              testId="act-heads"
              placeholder="e.g. 2.0, 3.1"
              value={formatHeadList(givenHeads)}
              parse={(text) => {
                const parsed = parseHeadList(text);
                if ('heads' in parsed) setAttentionStage({ heads: parsed.heads });
                return 'error' in parsed ? parsed.error : undefined;
              }}
              onProblem={(problem) => onDraftProblem('heads', problem)}
            />
          )}
        </Field>
      )}
      {searching && <SearchFields stage={stage} layers={layers} errorOf={errorOf} onDraftProblem={onDraftProblem} />}
    </>
  );
}

function SearchFields({ stage, layers, errorOf, onDraftProblem }: AttentionStageFieldsProps) {
  const reference = referenceSkipLayers(layers);
  const skipList = Array.isArray(stage.skipLayers) ? stage.skipLayers : undefined;
  return (
    <>
      <Field label="Skip layers" explain={actMeanings.skipLayers} error={stage.skipLayers === 'reference' ? undefined : errorOf('skipLayers')}>
        {(props) => (
          <select {...props} value={stage.skipLayers === 'reference' ? 'reference' : 'list'} onChange={(e) => setAttentionStage({ skipLayers: e.target.value === 'reference' ? 'reference' : reference })}>
            <option value="reference">reference: first two and last{reference.length > 0 ? ` (${reference.join(', ')})` : ''}</option>
            <option value="list">these layers</option>
          </select>
        )}
      </Field>
      {skipList && (
        <Field label="Layers to skip" explain="Layer numbers separated by commas; empty searches every layer." error={errorOf('skipLayers')}>
          {(props) => (
            <ListInput
              props={props}
              testId="act-skip-layers"
              placeholder="e.g. 0, 1, 5"
              value={skipList.join(', ')}
              parse={(text) => {
                const parsed = parseLayerList(text);
                if ('layers' in parsed) setAttentionStage({ skipLayers: parsed.layers });
                return 'error' in parsed ? parsed.error : undefined;
              }}
              onProblem={(problem) => onDraftProblem('skipLayers', problem)}
            />
          )}
        </Field>
      )}
      <div className="field-pair">
        <Field label="Search samples" explain={actMeanings.samples} error={errorOf('search.samples')}>
          {(props) => <NumberInput props={props} testId="act-samples" value={stage.search.samples} step={1} min={1} onChange={(samples) => setAttentionStage({ search: { ...stage.search, samples } })} />}
        </Field>
        <Field label="Noise guard" explain={actMeanings.guard} error={errorOf('search.guard')}>
          {(props) => (
            <select {...props} value={stage.search.guard} onChange={(e) => setAttentionStage({ search: { ...stage.search, guard: e.target.value as AttentionStage['search']['guard'] } })}>
              <option value="interval">noise guard: 95 % interval</option>
              <option value="none">none (reference strict rule)</option>
            </select>
          )}
        </Field>
      </div>
    </>
  );
}

/**
 * A text field for a list: keeps what the user typed while it does not parse, and reports the
 * parser's message (the recipe keeps its last valid list, so the message must block Run).
 */
function ListInput({ props, testId, placeholder, value, parse, onProblem }: { props: FieldControlProps; testId: string; placeholder: string; value: string; parse: (text: string) => string | undefined; onProblem: (problem: string | undefined) => void }) {
  const [draft, setDraft] = useState<string>();
  return (
    <input
      {...props}
      type="text"
      spellCheck={false}
      data-testid={testId}
      placeholder={placeholder}
      value={draft ?? value}
      onChange={(e) => {
        setDraft(e.target.value);
        onProblem(parse(e.target.value));
      }}
      onBlur={() => {
        // A list that parsed is shown as the recipe holds it; one that did not stays as typed.
        if (parse(draft ?? value) === undefined) setDraft(undefined);
      }}
    />
  );
}
