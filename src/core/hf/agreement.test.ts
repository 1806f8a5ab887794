// config.json and tokenizer.json against the graph they came with, on the bundled character LM
// (6 blocks, 4 heads; its token embedding's rows are its vocabulary).
import { describe, expect, test } from 'vitest';
import { bundledModel } from '../calibrate/fixtures/models';
import { folderDisagreements } from './agreement';
import type { HfConfig } from './config';

const lm = bundledModel('kjv-charlm');
const table = lm.analysis.embeddings.find((e) => e.kind === 'token')!;
const [rows, width] = table.weightDims;
const agreeing: HfConfig = { modelType: 'gpt2', family: 'gpt2', layers: lm.analysis.numBlocks, hidden: width, heads: lm.analysis.attention[0].heads!, kvHeads: lm.analysis.attention[0].heads!, vocab: rows };

describe('folderDisagreements', () => {
  test('pieces that describe the graph raise nothing', () => {
    expect(lm.analysis.numBlocks).toBe(6);
    expect(folderDisagreements(lm.analysis, { config: { file: 'config.json', config: agreeing }, tokenizer: { file: 'tokenizer.json', vocabSize: rows } })).toEqual([]);
    expect(folderDisagreements(lm.analysis, { tokenizer: { file: 'tokenizer.json', vocabSize: rows - 3 } })).toEqual([]);
  });

  test('each disagreement is a line naming the file and the field', () => {
    const config = { ...agreeing, layers: 12, vocab: rows + 1, hidden: width * 2, heads: 8 };
    expect(folderDisagreements(lm.analysis, { config: { file: 'm/config.json', config }, tokenizer: { file: 'm/tokenizer.json', vocabSize: 50257 } })).toEqual([
      'm/config.json: n_layer = 12, but the graph has 6 blocks',
      `m/config.json: vocab_size = ${rows + 1}, but the graph's token embedding has ${rows} rows`,
      `m/config.json: n_embd = ${width * 2}, but the graph's token embedding is ${width} wide`,
      "m/config.json: n_head = 8, but the graph's attention has 4 heads",
      `m/tokenizer.json: the tokenizer has 50257 tokens, but the graph's token embedding has only ${rows} rows: ids past ${rows - 1} would index outside it`,
    ]);
    const llama = { ...config, family: 'llama' as const, modelType: 'llama' };
    expect(folderDisagreements(lm.analysis, { config: { file: 'config.json', config: llama } })[0]).toBe('config.json: num_hidden_layers = 12, but the graph has 6 blocks');
    const grouped = { ...agreeing, family: 'llama' as const, modelType: 'llama', kvHeads: 2 };
    expect(folderDisagreements(lm.analysis, { config: { file: 'config.json', config: grouped } })).toEqual(['config.json: num_key_value_heads = 2, but the graph\'s attention has 4 key-value heads']);
  });
});
