// What the page recognised in a dropped Hugging Face folder: the family and sizes from config.json
// (which agreed with the graph, or the folder was refused), the tokenizer's vocabulary, the graph
// opened, and each missing piece with what it costs.
import { useLab } from '../store';

export function HfFolderSummary() {
  const hf = useLab((s) => s.model.hf);
  if (!hf) return null;
  const c = hf.config;
  return (
    <div className="hf-folder" data-testid="hf-folder">
      <h3>Hugging Face folder</h3>
      <dl className="kv compact">
        <dt>Folder</dt>
        <dd data-testid="hf-folder-name">{hf.folder}</dd>
        <dt>Graph</dt>
        <dd>{hf.modelPath}</dd>
        {c && (
          <>
            <dt>Family</dt>
            <dd data-testid="hf-family" data-family={c.family}>
              {c.family === 'llama' ? 'Llama-style decoder' : c.family === 'gpt2' ? 'GPT-2' : c.family === 'bert' ? 'BERT-style encoder' : 'ViT'} (model_type {c.modelType})
            </dd>
            <dt>Sizes</dt>
            <dd data-testid="hf-sizes">
              {c.layers} layers, width {c.hidden}, {c.heads} heads{c.kvHeads !== c.heads ? ` (${c.kvHeads} key-value heads)` : ''}
              {c.intermediate !== undefined ? `, MLP ${c.intermediate}` : ''}
              {c.vocab !== undefined ? `, vocabulary ${c.vocab.toLocaleString('en-US')}` : ''}
              {hf.contextLength !== undefined ? `, context ${hf.contextLength.toLocaleString('en-US')}` : ''}
            </dd>
          </>
        )}
        {hf.tokenizer && (
          <>
            <dt>Tokenizer</dt>
            <dd data-testid="hf-tokenizer" data-vocab={hf.tokenizer.vocabSize}>
              {hf.tokenizer.file}: {hf.tokenizer.vocabSize.toLocaleString('en-US')} tokens (tokenizers.js)
            </dd>
          </>
        )}
        <dt>Agreement</dt>
        <dd data-testid="hf-agreement">{c ? 'config.json agrees with the graph (layers, width, heads, vocabulary)' : 'nothing to check: no config.json'}</dd>
      </dl>
      {hf.missing.length > 0 && (
        <ul className="hf-missing" data-testid="hf-missing">
          {hf.missing.map((m) => (
            <li key={m}>{m}</li>
          ))}
        </ul>
      )}
      {hf.notes.map((n) => (
        <p key={n} className="muted">
          {n}
        </p>
      ))}
    </div>
  );
}
