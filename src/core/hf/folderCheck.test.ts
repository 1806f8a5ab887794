// A folder's JSON pieces checked against a GPT-2-shaped graph from the repository's generator
// (scripts/gen/gpt2Model.ts: 2 blocks, width 64, GPT-2's 50,257-token vocabulary) with GPT-2's real
// tokenizer.json: all of it agrees, or one line names the file and the field.
import { describe, expect, test } from 'vitest';
import { buildGpt2Model } from '../../../scripts/gen/gpt2Model.ts';
import { analyzeModel } from '../model/index.ts';
import { checkFolderPieces } from './folderCheck.ts';
import { defaultWindowLength } from './folderJson.ts';
import { GPT2_TOKENIZER_CONFIG, gpt2TokenizerJson } from './testing/gpt2Tokenizer.ts';

const analysis = analyzeModel(buildGpt2Model({ blocks: 2, vocab: 50257, context: 64, dModel: 64, heads: 4 }, 1));
const config = (patch: Record<string, unknown> = {}) => ({ file: 'm/config.json', text: JSON.stringify({ model_type: 'gpt2', n_layer: 2, n_embd: 64, n_head: 4, vocab_size: 50257, n_positions: 64, ...patch }) });
const tokenizerText = JSON.stringify(gpt2TokenizerJson());
const tokenizer = { file: 'm/tokenizer.json', text: tokenizerText };
const tokenizerConfig = { file: 'm/tokenizer_config.json', text: JSON.stringify(GPT2_TOKENIZER_CONFIG) };

describe('checkFolderPieces', () => {
  test('an agreeing GPT-2 folder: family, sizes, context and the tokenizer', () => {
    const checked = checkFolderPieces(analysis, { config: config(), tokenizer, tokenizerConfig });
    expect(checked.config).toMatchObject({ family: 'gpt2', layers: 2, hidden: 64, heads: 4, vocab: 50257 });
    expect(checked.contextLength).toBe(64);
    expect(checked.tokenizer?.vocabSize).toBe(50257);
    expect(checked.tokenizer?.eosId).toBe(50256);
    expect(checked.tokenizer?.encode('In the beginning')).toEqual([818, 262, 3726]);
    expect(defaultWindowLength(checked.contextLength)).toBe(64);
    expect(defaultWindowLength(undefined)).toBe(128);
  });

  test('no config.json and no tokenizer: nothing to check, nothing refused', () => {
    expect(checkFolderPieces(analysis, {})).toEqual({ config: undefined, configJson: undefined, contextLength: undefined, tokenizer: undefined });
  });

  test.each([
    ['n_layer disagreeing with the graph', { config: config({ n_layer: 12 }) }, 'm/config.json: n_layer = 12, but the graph has 2 blocks'],
    ['two fields disagreeing, on one line', { config: config({ n_layer: 12, vocab_size: 50000 }) }, "m/config.json: n_layer = 12, but the graph has 2 blocks; m/config.json: vocab_size = 50000, but the graph's token embedding has 50257 rows"],
    ['an unknown model_type', { config: config({ model_type: 'mamba' }) }, 'm/config.json: model_type "mamba" is not a family the lab knows'],
    ['a context that is not a number', { config: config({ n_positions: '1k' }) }, 'm/config.json: n_positions: must be an integer ≥ 2, got a string ("1k")'],
    ['config.json that is not JSON', { config: { file: 'm/config.json', text: '{"model_type": "gpt2",' } }, 'm/config.json: not valid JSON ('],
    ['a tokenizer.json that is not one', { tokenizer: { file: 'm/tokenizer.json', text: '{"version": "1.0"}' } }, 'm/tokenizer.json: model.type: required'],
    ['a tokenizer.json cut short', { tokenizer: { file: 'm/tokenizer.json', text: tokenizerText.slice(0, 5000) } }, 'm/tokenizer.json: not valid JSON ('],
  ])('%s: one line naming the file and the field', (_, files, message) => {
    let error: Error | undefined;
    try {
      checkFolderPieces(analysis, files);
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message.slice(0, message.length)).toBe(message);
    expect(error?.message).not.toContain('\n');
  });
});
