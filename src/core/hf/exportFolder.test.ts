// The downloaded folder: onnx/ holds the graph under the name transformers.js derives from the
// dtype, config.json carries transformers.js_config.dtype (other entries kept), the tokenizer
// files travel unchanged, and the zip unpacks to exactly these files.
import { unzipSync } from 'fflate';
import { describe, expect, test } from 'vitest';
import { DTYPE_SUFFIX, exportFolderFiles, zipFolder } from './exportFolder';

const bytes = (text: string) => new TextEncoder().encode(text);
const tokenizer = { path: 'smollm/tokenizer.json', bytes: bytes('{"model":{"type":"BPE"}}') };

describe('exportFolderFiles', () => {
  test('a packed 4-bit model is onnx/model_q4.onnx with dtype q4 in config.json', () => {
    const files = exportFolderFiles({ model: bytes('ONNX'), dtype: 'q4', config: { model_type: 'llama', 'transformers.js_config': { kv_cache_dtype: 'float16' } }, copied: [tokenizer, { path: 'smollm/config.json', bytes: bytes('{}') }, { path: 'smollm/onnx/model.onnx', bytes: bytes('old') }] });
    expect(files.map((f) => f.path)).toEqual(['onnx/model_q4.onnx', 'config.json', 'tokenizer.json']);
    const config = JSON.parse(new TextDecoder().decode(files[1].bytes));
    expect(config['transformers.js_config']).toEqual({ kv_cache_dtype: 'float16', dtype: 'q4', use_external_data_format: false });
    expect(config.model_type).toBe('llama');
  });

  test('use_external_data_format says whether this export wrote a data file, whatever the dropped config said', () => {
    const dropped = { model_type: 'llama', 'transformers.js_config': { use_external_data_format: true } };
    const flag = (files: { path: string; bytes: Uint8Array }[]) => JSON.parse(new TextDecoder().decode(files.find((f) => f.path === 'config.json')!.bytes))['transformers.js_config'].use_external_data_format;
    expect(flag(exportFolderFiles({ model: bytes('ONNX'), dtype: 'fp32', config: dropped, copied: [] }))).toBe(false);
    const external = exportFolderFiles({ model: bytes('ONNX'), externalData: bytes('DATA'), dtype: 'fp32', config: dropped, copied: [] });
    expect(flag(external)).toBe(true);
    expect(external.map((f) => f.path)).toContain('onnx/model.onnx_data');
  });

  test('every dtype names the file transformers.js asks for; no config, no config.json', () => {
    expect(Object.entries(DTYPE_SUFFIX).map(([dtype]) => exportFolderFiles({ model: bytes('x'), dtype: dtype as keyof typeof DTYPE_SUFFIX, copied: [] })[0].path)).toEqual([
      'onnx/model.onnx',
      'onnx/model_fp16.onnx',
      'onnx/model_quantized.onnx',
      'onnx/model_q4.onnx',
      'onnx/model_q4f16.onnx',
      'onnx/model_int8.onnx',
      'onnx/model_uint8.onnx',
      'onnx/model_bnb4.onnx',
    ]);
  });

  test('the zip unpacks to the same files under the root folder', () => {
    const files = exportFolderFiles({ model: bytes('ONNX bytes'), dtype: 'fp32', config: { model_type: 'gpt2' }, copied: [tokenizer] });
    const unpacked = unzipSync(zipFolder('gpt2-wanda50', files));
    expect(Object.keys(unpacked).sort()).toEqual(['gpt2-wanda50/config.json', 'gpt2-wanda50/onnx/model.onnx', 'gpt2-wanda50/tokenizer.json']);
    expect(new TextDecoder().decode(unpacked['gpt2-wanda50/onnx/model.onnx'])).toBe('ONNX bytes');
    expect(unpacked['gpt2-wanda50/tokenizer.json']).toEqual(tokenizer.bytes);
  });
});
