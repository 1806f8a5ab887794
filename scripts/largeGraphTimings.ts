// Times the model analysis (and `lab info`'s printing) on the large graphs of issue 7:
//   node --import tsx scripts/largeGraphTimings.ts [case ...]
// Cases: lm-repeat-20k, vit-repeat-20k, vit-copies-20k, wide-200k, chain-140k, fanout-40k,
// lm-copies-1m. Prints one line per case: milliseconds for analyzeModel and for printing.
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { Console } from 'node:console';
import { readModel, writeModel } from '../src/core/onnx/index.ts';
import { analyzeModel } from '../src/core/model/index.ts';
import { fanOutMlp, linearChain, renamedCopies, repeatNodes, wideAttention } from '../src/core/model/largeGraphs.ts';
import { printAnalysis } from '../src/cli/printAnalysis.ts';
import type { ModelProto } from '../src/core/onnx/types.ts';

const bundled = (id: string) => readModel(new Uint8Array(readFileSync(`public/models/${id}/model.onnx`)));

const cases: Record<string, () => ModelProto> = {
  'lm-repeat-20k': () => repeatNodes(bundled('kjv-charlm'), 20_000),
  'vit-repeat-20k': () => repeatNodes(bundled('digits-vit'), 20_000),
  'vit-copies-20k': () => renamedCopies(bundled('digits-vit'), 20_000),
  'wide-200k': () => wideAttention(200_000),
  'chain-140k': () => linearChain(140_000),
  'fanout-40k': () => fanOutMlp(40_000),
  'lm-copies-1m': () => renamedCopies(bundled('kjv-charlm'), 1_000_000),
};

for (const name of process.argv.length > 2 ? process.argv.slice(2) : Object.keys(cases)) {
  const model = cases[name]();
  // Through the codec, as `lab info` reads it from a file.
  const bytes = writeModel(model);
  const t0 = performance.now();
  const read = readModel(bytes);
  const t1 = performance.now();
  let line = `${name.padEnd(16)} ${String(read.graph?.node?.length).padStart(8)} nodes  read ${(t1 - t0).toFixed(0).padStart(6)} ms`;
  try {
    const analysis = analyzeModel(read);
    const t2 = performance.now();
    line += `  analyze ${(t2 - t1).toFixed(0).padStart(6)} ms`;
    const sink = new Console(new Writable({ write: (_chunk, _encoding, done) => done() }));
    const original = console.log;
    console.log = sink.log.bind(sink);
    try {
      printAnalysis(name, bytes.byteLength, analysis);
    } finally {
      console.log = original;
    }
    line += `  print ${(performance.now() - t2).toFixed(0).padStart(6)} ms  (${analysis.linears.length} linear, ${analysis.attention.length} attention)`;
  } catch (error) {
    line += `  FAILED after ${(performance.now() - t1).toFixed(0)} ms: ${String(error).slice(0, 120)}`;
  }
  console.log(line);
}
