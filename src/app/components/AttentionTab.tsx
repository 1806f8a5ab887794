// The Attention tab: the attention view of the loaded model, fed with what the Try-it tab uses (the
// LM's vocabulary, the ViT's evaluation images), and of the selected run's result while the
// worker holds it.
import { useCallback } from 'react';
import { fusedAttentionNotice, type AttentionInput } from '../../core/attention';
import type { ImageDataset } from '../../core/eval/datasets';
import type { ModelTarget } from '../../../workers/protocol';
import { currentEvalSet, wasmPaths, wasmThreads, worker } from '../controller';
import { selectedRun, useLab } from '../store';
import { folderCodec } from '../textCodec';
import { AttentionView } from './AttentionView';

export function AttentionTab() {
  const backend = useLab((s) => s.backend);
  const run = useLab(selectedRun);
  const loadId = useLab((s) => s.model.loadId);
  const architecture = useLab((s) => s.model.card?.architecture);
  const analysis = useLab((s) => s.model.analysis);
  const set = currentEvalSet();
  const folderTokenizer = useLab((s) => s.model.hf?.tokenizer !== undefined);
  const fetchAttention = useCallback(
    (target: ModelTarget, input: AttentionInput) => worker.attention({ target, input, backend, numThreads: wasmThreads(), wasmPaths }).done,
    [backend],
  );
  const predictImage = useCallback(
    (target: ModelTarget, dataset: ImageDataset) => worker.predict({ target, dataset, indices: [0], backend, numThreads: wasmThreads(), wasmPaths }).done.then((r) => r.predictions[0]),
    [backend],
  );
  const compared = run && run.held && run.model.loadId === loadId && run.status === 'done' ? { id: run.id, label: `Show run ${run.number} (${run.report?.summary ?? ''}) instead of the dense model` } : undefined;
  // A fused kernel's probabilities are no tensor: say so instead of offering a capture that cannot work.
  const fused = analysis ? fusedAttentionNotice(analysis) : null;
  if (fused) return <p className="muted" data-testid="attention-fused">{fused}</p>;
  if (!set) return <p className="muted">Load a bundled model (or one compatible with its evaluation set) to look at its attention.</p>;
  if (set.dataset.kind === 'lm-tokens' && set.vocab) {
    return <AttentionView key={loadId} source={{ kind: 'text', vocab: set.vocab, contextLength: set.contextLength ?? set.dataset.seqLen }} run={compared} fetchAttention={fetchAttention} />;
  }
  if (set.dataset.kind === 'image-classification') {
    return <AttentionView key={loadId} source={{ kind: 'image', dataset: set.dataset, architecture }} run={compared} fetchAttention={fetchAttention} predictImage={predictImage} />;
  }
  if (folderTokenizer && set.dataset.kind === 'lm-tokens') {
    // A dropped folder's text model: tokens labelled by its own tokenizer.json, each id decoded.
    return <AttentionView key={loadId} source={{ kind: 'folder', codec: folderCodec(worker), contextLength: set.contextLength ?? set.dataset.seqLen }} run={compared} fetchAttention={fetchAttention} />;
  }
  if (folderTokenizer) return <p className="muted">Give the model text under “Your data” first: the attention view reads it with the folder’s tokenizer.json.</p>;
  return <p className="muted">This model has no vocabulary file, so the lab cannot turn text into its tokens.</p>;
}
