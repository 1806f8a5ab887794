// The worker of `npm run bench:hf -- --browser` (bench/hfBrowser.ts): compressStreamed in a
// headless Chromium worker, as the page's worker would run it — the model's .onnx read whole (the
// graph only), its model.onnx_data read by `File.slice` ranges (sliceWeightSource), the
// compressed weights written to a file of the origin-private file system (syncHandleWeightSink),
// ORT's wasm build on one thread. Bundled by esbuild; posts one result message.
import { compressStreamed } from '../src/core/compress/streamed.ts';
import { mulberry32 } from '../src/core/calibrate/random.ts';
import type { LmTokenDataset } from '../src/core/eval/datasets.ts';
import { analyzeModel } from '../src/core/model/index.ts';
import { readModel } from '../src/core/onnx/index.ts';
import { weightSources } from '../src/core/onnx/lazyTensors.ts';
import { sliceWeightSource, syncHandleWeightSink, type SyncWriteHandle } from '../src/core/onnx/weightSource.ts';
import { defaultRecipe } from '../src/core/recipe/defaults.ts';
import { defaultQuantizeStage } from '../src/core/recipe/stages/quantize.ts';
import { createRunner } from '../src/runtime/ort.ts';

interface Start {
  files: File[];
  method: 'wanda' | 'sparsegpt' | 'gptq';
  samples: number;
  seqLen: number;
}

interface OpfsFileHandle {
  createSyncAccessHandle(): Promise<SyncWriteHandle & { getSize(): number }>;
}
interface OpfsDirectory {
  getFileHandle(name: string, options: { create: boolean }): Promise<OpfsFileHandle>;
  removeEntry(name: string): Promise<void>;
}

const scope = globalThis as unknown as { onmessage: (event: MessageEvent<Start>) => void; postMessage: (message: unknown) => void; navigator: { storage: { getDirectory(): Promise<OpfsDirectory> } } };

scope.onmessage = async ({ data }) => {
  try {
    const t0 = performance.now();
    const onnx = data.files.find((f) => f.name.endsWith('.onnx'))!;
    const external = data.files.find((f) => f.name.endsWith('.onnx_data'))!;
    const model = readModel(new Uint8Array(await onnx.arrayBuffer()));
    const analysis = analyzeModel(model);
    const vocab = analysis.linears.find((l) => l.role === 'head')?.outFeatures ?? 50257;
    const random = mulberry32(7);
    const sequences = Array.from({ length: data.samples }, () => Array.from({ length: data.seqLen + 1 }, () => Math.floor(random() * vocab)));
    const calibSet: LmTokenDataset = { kind: 'lm-tokens', seqLen: data.seqLen, sequences };
    const recipe = defaultRecipe();
    recipe.calibration = { ...recipe.calibration, samples: data.samples, batchSize: 8 };
    if (data.method === 'gptq') recipe.stages = [defaultQuantizeStage()];
    else (recipe.stages[0] as unknown as { method: string }).method = data.method;
    const dir = await scope.navigator.storage.getDirectory();
    const handle = await (await dir.getFileHandle('model.onnx_data', { create: true })).createSyncAccessHandle();
    const sink = syncHandleWeightSink('model.onnx_data', handle);
    const loadMs = performance.now() - t0;
    const start = performance.now();
    const outcome = await compressStreamed({
      model,
      analysis,
      recipe,
      calibSet,
      createRunner: async (bytes) => (await createRunner(bytes, { backend: 'wasm', numThreads: 1, wasmPaths: '/ort/' })).runner,
      sources: weightSources([sliceWeightSource(external.name, external)]),
      sink,
      onProgress: (p) => p.step && p.done === 0 && scope.postMessage({ progress: `${p.phase} ${p.step.index + 1}/${p.step.count} at ${((performance.now() - t0) / 1000).toFixed(1)} s` }),
    });
    const wallMs = performance.now() - start;
    await dir.removeEntry('model.onnx_data');
    scope.postMessage({ done: { loadMs, wallMs, calibrationMs: outcome.timings.calibrationMs, outBytes: outcome.onnx.byteLength + outcome.dataBytes, linears: analysis.linears.length, blocks: analysis.numBlocks, weightBytes: external.size } });
  } catch (error) {
    scope.postMessage({ error: String((error as Error).stack ?? error) });
  }
};
