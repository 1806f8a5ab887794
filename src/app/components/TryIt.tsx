// Trying the models out: text from the dense and the selected compressed LM side by side, or the
// ViT's predictions on evaluation digits with the changes the compression made.
import { currentEvalSet, wasmPaths, wasmThreads, worker } from '../controller';
import { selectedRun, useLab } from '../store';
import { DigitGrid } from './DigitGrid';
import { GenerateView } from './GenerateView';
import type { TeachingRuntime } from './teachingRuntime';
import { charCodec, folderCodec, type TextCodec } from '../textCodec';
import { useMemo } from 'react';

export function TryIt() {
  const backend = useLab((s) => s.backend);
  const run = useLab(selectedRun);
  const set = currentEvalSet();
  const loadId = useLab((s) => s.model.loadId);
  const hf = useLab((s) => s.model.hf);
  // A folder's tokenizer lives in the model worker; the bundled LM's characters on this thread.
  const codec: TextCodec | undefined = useMemo(() => (set?.vocab ? charCodec(set.vocab) : hf?.tokenizer ? folderCodec(worker) : undefined), [set?.vocab, hf?.tokenizer]);
  const runtime: TeachingRuntime = { worker, backend, numThreads: wasmThreads(), wasmPaths };
  // Only a run of the loaded model whose result the worker still holds can be compared.
  const compared = run && run.held && run.model.loadId === loadId && run.status === 'done' ? run : undefined;
  const runLabel = compared && `Run ${compared.number} (${compared.report?.summary ?? ''})`;
  if (hf?.tokenizer && codec) {
    // A folder's model generates with its own tokenizer, with or without the user's text.
    return (
      <div data-testid="try-it">
        {!compared && <p className="muted">Run a recipe to compare the compressed model with the dense one here.</p>}
        <GenerateView key={loadId} runtime={runtime} codec={codec} contextLength={hf.contextLength ?? set?.contextLength ?? 128} runId={compared?.id} runLabel={runLabel} initialPrompt="The" />
      </div>
    );
  }
  if (!set) return <p className="muted">Load a bundled model (or one compatible with its evaluation set) to try it out.</p>;
  return (
    <div data-testid="try-it">
      {!compared && <p className="muted">Run a recipe to compare the compressed model with the dense one here.</p>}
      {set.dataset.kind === 'lm-tokens' && codec ? (
        <GenerateView key={loadId} runtime={runtime} codec={codec} contextLength={set.contextLength ?? set.dataset.seqLen} runId={compared?.id} runLabel={runLabel} />
      ) : set.dataset.kind === 'image-classification' ? (
        <DigitGrid key={loadId} runtime={runtime} dataset={set.dataset} runId={compared?.id} runLabel={runLabel} />
      ) : (
        <p className="muted">This model has no vocabulary file, so the lab cannot turn text into its tokens.</p>
      )}
    </div>
  );
}
