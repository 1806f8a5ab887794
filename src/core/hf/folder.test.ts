// Export folders as they come: an Optimum export, a transformers.js repository (onnx/ holding
// several precisions, the JSON one folder up), a merged KV-cache decoder, a ViT, a seq2seq export,
// a folder without a model; and config.json for each family the lab knows.
import { describe, expect, test } from 'vitest';
import { HfConfigError, readHfConfig } from './config';
import { planFolder, type FolderFile } from './folder';

const files = (...paths: string[]): FolderFile[] => paths.map((path, i) => ({ path, size: 1000 + i }));

describe('planFolder', () => {
  test('an Optimum export: model.onnx with its external data and every JSON piece', () => {
    const result = planFolder(files('gpt2/model.onnx', 'gpt2/model.onnx_data', 'gpt2/config.json', 'gpt2/tokenizer.json', 'gpt2/tokenizer_config.json', 'gpt2/generation_config.json', 'gpt2/special_tokens_map.json'));
    expect(result.ok).toBe(true);
    const plan = result.ok ? result.plan : undefined!;
    expect(plan.model.path).toBe('gpt2/model.onnx');
    expect(plan.externalData.map((f) => f.path)).toEqual(['gpt2/model.onnx_data']);
    expect(Object.keys(plan.pieces).sort()).toEqual(['config', 'generationConfig', 'tokenizer', 'tokenizerConfig']);
    expect(plan.missing).toEqual([]);
    expect(plan.notes).toEqual([]);
  });

  test('a transformers.js repository: the full-precision graph from onnx/, the JSON from one folder up', () => {
    const result = planFolder(
      files('SmolLM-135M/config.json', 'SmolLM-135M/tokenizer.json', 'SmolLM-135M/tokenizer_config.json', 'SmolLM-135M/onnx/model_q4.onnx', 'SmolLM-135M/onnx/model_fp16.onnx', 'SmolLM-135M/onnx/model.onnx', 'SmolLM-135M/onnx/model_quantized.onnx', 'SmolLM-135M/README.md'),
    );
    const plan = result.ok ? result.plan : undefined!;
    expect(plan.model.path).toBe('SmolLM-135M/onnx/model.onnx');
    expect(plan.pieces.config?.path).toBe('SmolLM-135M/config.json');
    expect(plan.pieces.tokenizer?.path).toBe('SmolLM-135M/tokenizer.json');
    expect(plan.otherModels).toHaveLength(3);
    expect(plan.notes).toEqual(['opened model.onnx; left aside 3 other graph(s): model_q4.onnx, model_fp16.onnx, model_quantized.onnx']);
  });

  test('only quantized graphs: the best of them, with a note that it compounds the error', () => {
    const result = planFolder(files('m/onnx/model_q4.onnx', 'm/onnx/model_quantized.onnx', 'm/config.json', 'm/tokenizer.json'));
    const plan = result.ok ? result.plan : undefined!;
    expect(plan.model.path).toBe('m/onnx/model_quantized.onnx');
    expect(plan.notes[0]).toMatch(/model_quantized\.onnx is a reduced-precision or quantized graph/);
    expect(plan.missing).toEqual(['no tokenizer_config.json: special tokens (beginning and end of text) come from tokenizer.json alone']);
  });

  test('a merged KV-cache decoder is preferred to the plain one; picked files without a folder work', () => {
    const result = planFolder(files('decoder_model.onnx', 'decoder_model_merged.onnx', 'decoder_model_merged.onnx.data', 'config.json'));
    const plan = result.ok ? result.plan : undefined!;
    expect(plan.model.path).toBe('decoder_model_merged.onnx');
    expect(plan.externalData.map((f) => f.path)).toEqual(['decoder_model_merged.onnx.data']);
    expect(plan.missing).toEqual(['no tokenizer.json: you can still compress the weights, but not evaluate on text or generate']);
  });

  test('a ViT needs no tokenizer; a lone model.onnx names every missing piece', () => {
    const vit = planFolder(files('vit/model.onnx', 'vit/config.json', 'vit/preprocessor_config.json'));
    expect(vit.ok && vit.plan.missing).toEqual([]);
    const lone = planFolder(files('model.onnx'));
    expect(lone.ok && lone.plan.missing).toEqual([
      'no config.json: the family is recognised from the graph alone, and a downloaded folder will not carry one',
      'no tokenizer.json: you can still compress the weights, but not evaluate on text or generate',
    ]);
  });

  test('no graph, or only a seq2seq export: one sentence, nothing guessed', () => {
    expect(planFolder(files('a/config.json', 'a/tokenizer.json'))).toEqual({ ok: false, message: expect.stringMatching(/^No \.onnx model among the 2 file\(s\) dropped \(config\.json, tokenizer\.json\)/) });
    expect(planFolder(files('t5/encoder_model.onnx', 't5/decoder_with_past_model.onnx'))).toEqual({ ok: false, message: expect.stringMatching(/^Only seq2seq graphs here/) });
  });
});

describe('readHfConfig', () => {
  test('each family’s field names, as the real config.json files spell them', () => {
    // GPT-2 (openai-community/gpt2): n_layer, n_embd, n_head; no num_key_value_heads.
    expect(readHfConfig({ model_type: 'gpt2', n_layer: 12, n_embd: 768, n_head: 12, vocab_size: 50257, n_inner: null })).toEqual({ modelType: 'gpt2', family: 'gpt2', layers: 12, hidden: 768, heads: 12, kvHeads: 12, vocab: 50257 });
    // Qwen2.5-0.5B: grouped-query attention, 14 heads sharing 2 key-value heads.
    expect(readHfConfig({ model_type: 'qwen2', num_hidden_layers: 24, hidden_size: 896, num_attention_heads: 14, num_key_value_heads: 2, vocab_size: 151936, intermediate_size: 4864 })).toMatchObject({ family: 'llama', layers: 24, heads: 14, kvHeads: 2, intermediate: 4864 });
    // TinyLlama-1.1B.
    expect(readHfConfig({ model_type: 'llama', num_hidden_layers: 22, hidden_size: 2048, num_attention_heads: 32, num_key_value_heads: 4, vocab_size: 32000, intermediate_size: 5632 })).toMatchObject({ family: 'llama', kvHeads: 4 });
    expect(readHfConfig({ model_type: 'bert', num_hidden_layers: 12, hidden_size: 768, num_attention_heads: 12, vocab_size: 30522 }).family).toBe('bert');
    expect(readHfConfig({ model_type: 'vit', num_hidden_layers: 12, hidden_size: 768, num_attention_heads: 12, image_size: 224 })).toMatchObject({ family: 'vit', layers: 12 });
  });

  test('bad files name the file and the field', () => {
    const message = (json: unknown) => {
      try {
        readHfConfig(json, 'my/config.json');
      } catch (e) {
        expect(e).toBeInstanceOf(HfConfigError);
        return (e as Error).message;
      }
      return '';
    };
    expect(message([])).toMatch(/^my\/config\.json: must be a JSON object/);
    expect(message({})).toMatch(/^my\/config\.json: model_type: required/);
    expect(message({ model_type: 't5' })).toMatch(/model_type "t5" is not a family the lab knows \(gpt2, llama/);
    expect(message({ model_type: '__proto__' })).toMatch(/is not a family the lab knows/);
    expect(message({ model_type: 'llama', num_hidden_layers: 2, hidden_size: 64, num_attention_heads: 4 })).toMatch(/vocab_size: required for model_type "llama"/);
    expect(message({ model_type: 'llama', num_hidden_layers: '2', hidden_size: 64, num_attention_heads: 4, vocab_size: 10 })).toMatch(/num_hidden_layers: must be a positive integer, got a string/);
    expect(message({ model_type: 'llama', num_hidden_layers: 2, hidden_size: 66, num_attention_heads: 4, vocab_size: 10 })).toMatch(/hidden_size = 66 is not a multiple of num_attention_heads = 4/);
    expect(message({ model_type: 'qwen2', num_hidden_layers: 2, hidden_size: 64, num_attention_heads: 4, num_key_value_heads: 3, vocab_size: 10 })).toMatch(/not a multiple of num_key_value_heads = 3/);
  });
});
