// Do the folder's pieces describe the graph they came with? config.json's layer count, width,
// heads, key-value heads and vocabulary against what the analysis found in the graph; the
// tokenizer's vocabulary against the token embedding's rows (a token id past the last row would be an out-of-range
// Gather at the first evaluation). Each disagreement is one line naming the file and the field;
// the graph is what runs, so it is the one trusted.
import type { ModelAnalysis } from '../model/types.ts';
import type { HfConfig } from './config.ts';

export interface FolderPieces {
  config?: { file: string; config: HfConfig };
  tokenizer?: { file: string; vocabSize: number };
}

export function folderDisagreements(analysis: ModelAnalysis, pieces: FolderPieces): string[] {
  const problems: string[] = [];
  const tokenTable = analysis.embeddings.find((e) => e.kind === 'token');
  const tableRows = tokenTable?.weightDims[0];
  const tableWidth = tokenTable?.weightDims[1];
  const config = pieces.config;
  if (config) {
    const { file, config: c } = config;
    const layersField = c.family === 'gpt2' ? 'n_layer' : 'num_hidden_layers';
    if (analysis.blockSource !== 'none' && analysis.numBlocks !== c.layers) problems.push(`${file}: ${layersField} = ${c.layers}, but the graph has ${analysis.numBlocks} blocks`);
    if (c.vocab !== undefined && tableRows !== undefined && tableRows !== c.vocab) problems.push(`${file}: vocab_size = ${c.vocab}, but the graph's token embedding has ${tableRows} rows`);
    if (tableWidth !== undefined && tableWidth !== c.hidden) problems.push(`${file}: ${c.family === 'gpt2' ? 'n_embd' : 'hidden_size'} = ${c.hidden}, but the graph's token embedding is ${tableWidth} wide`);
    const heads = analysis.attention.find((a) => a.heads !== null)?.heads;
    if (heads !== undefined && heads !== null && heads !== c.heads) problems.push(`${file}: ${c.family === 'gpt2' ? 'n_head' : 'num_attention_heads'} = ${c.heads}, but the graph's attention has ${heads} heads`);
    // Grouped-query attention: the cache inputs are [batch, kvHeads, past, headDim], so a wrong count feeds the wrong shape.
    const kvHeads = analysis.attention.find((a) => a.kvHeads !== null)?.kvHeads;
    if (c.family !== 'gpt2' && kvHeads !== undefined && kvHeads !== null && kvHeads !== c.kvHeads) problems.push(`${file}: num_key_value_heads = ${c.kvHeads}, but the graph's attention has ${kvHeads} key-value heads`);
  }
  const tokenizer = pieces.tokenizer;
  if (tokenizer && tableRows !== undefined && tokenizer.vocabSize > tableRows) {
    problems.push(`${tokenizer.file}: the tokenizer has ${tokenizer.vocabSize} tokens, but the graph's token embedding has only ${tableRows} rows: ids past ${tableRows - 1} would index outside it`);
  }
  return problems;
}
