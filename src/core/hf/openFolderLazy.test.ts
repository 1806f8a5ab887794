// openHfFolder(…, { externalData: 'lazy' }), as the CLI's streamed run and the page's too-large
// folder open it: on the generated 2-block Llama-shaped folder (weights in model.onnx_data), the
// data file is never read, the analysis is the one of the folder opened whole, the weights stay
// external references, and data shorter than the tensors need is still refused in one line,
// checked against the file's size alone.
import { describe, expect, test } from 'vitest';
import { isExternalTensor } from '../onnx/lazyTensors';
import { openHfFolder, type HfFolderEntry } from './openFolder';
import { diskEntries, generatedFolder } from './testing/generatedFolders';

/** The folder's entries, with the data file unreadable (and, when given, claiming another size). */
function withoutDataReads(size?: number): HfFolderEntry[] {
  return diskEntries(generatedFolder('llama')).map((e) =>
    e.path.endsWith('.onnx_data')
      ? { ...e, size: size ?? e.size, read: async () => Promise.reject(new Error(`${e.path} was read`)) }
      : e,
  );
}

describe('openHfFolder with lazy external data', () => {
  test('the analysis of the whole folder, without reading model.onnx_data', async () => {
    const whole = await openHfFolder(diskEntries(generatedFolder('llama')));
    const lazy = await openHfFolder(withoutDataReads(), { externalData: 'lazy' });
    expect(lazy.externalDataBytes).toBe(whole.externalDataBytes);
    expect(lazy.externalDataBytes).toBeGreaterThan(0);
    expect(lazy.analysis.linears).toEqual(whole.analysis.linears);
    expect(lazy.analysis.numBlocks).toBe(2);
    const external = (lazy.model.graph?.initializer ?? []).filter(isExternalTensor);
    expect(external.length).toBeGreaterThanOrEqual(lazy.analysis.linears.length);
    expect(lazy.tokenizer?.tokenizer.vocabSize).toBe(whole.tokenizer?.tokenizer.vocabSize);
  });

  test('a data file shorter than its tensors need: one line naming the graph, the tensor and the file', async () => {
    await expect(openHfFolder(withoutDataReads(1000), { externalData: 'lazy' })).rejects.toThrow(/^model\.onnx: Tensor "[^"]+": bytes \d+\.\.\d+ are outside "model\.onnx_data" \(1000 bytes\)$/);
  });
});
