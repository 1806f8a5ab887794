// Times the model analysis (and `lab info`'s printing) on the large graphs of issue 7:
//   node --import tsx scripts/largeGraphTimings.ts [case ...]
// Times are CPU time of this process (user + system), which a busy shared machine inflates far
// less than wall time. Cases: lm-repeat-20k, vit-repeat-20k, vit-copies-20k, wide-200k, chain-140k, fanout-40k,
// lm-copies-200k, lm-copies-1m. Prints one line per case: milliseconds for analyzeModel and for printing.
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { Console } from 'node:console';
import { readModel, writeModel } from '../src/core/onnx/index.ts';
import { analyzeModel } from '../src/core/model/index.ts';
import { fanOutMlp, linearChain, renamedCopies, repeatNodes, wideAttention } from '../src/core/model/largeGraphs.ts';
import { printAnalysis } from '../src/cli/printAnalysis.ts';
import type { ModelProto } from '../src/core/onnx/types.ts';

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const bundled = (id: string) => readModel(new Uint8Array(readFileSync(`public/models/${id}/model.onnx`)));

/** The model without its float payloads (dims kept): the analysis reads shapes, and 1 800 copies of 5 MB of weights would not fit in one file. */
function withoutWeights(model: ModelProto): ModelProto {
  const initializer = model.graph?.initializer?.map((t) => (t.dataType === 1 ? { ...t, rawData: undefined } : t));
  return { ...model, graph: { ...model.graph, initializer } };
}

const cases: Record<string, () => ModelProto> = {
  'lm-repeat-20k': () => repeatNodes(bundled('kjv-charlm'), 20_000),
  'vit-repeat-20k': () => repeatNodes(bundled('digits-vit'), 20_000),
  'vit-copies-20k': () => renamedCopies(bundled('digits-vit'), 20_000),
  'wide-200k': () => wideAttention(200_000),
  'chain-140k': () => linearChain(140_000),
  'fanout-40k': () => fanOutMlp(40_000),
  'lm-copies-200k': () => renamedCopies(withoutWeights(bundled('kjv-charlm')), 200_000),
  'lm-copies-1m': () => renamedCopies(withoutWeights(bundled('kjv-charlm')), 1_000_000),
};

for (const name of process.argv.length > 2 ? process.argv.slice(2) : Object.keys(cases)) {
  const model = cases[name]();
  // Through the codec, as `lab info` reads it from a file.
  const bytes = writeModel(model);
  const t0 = cpuMs();
  const read = readModel(bytes);
  const t1 = cpuMs();
  let line = `${name.padEnd(16)} ${String(read.graph?.node?.length).padStart(8)} nodes  read ${(t1 - t0).toFixed(0).padStart(6)} ms`;
  try {
    const analysis = analyzeModel(read);
    const t2 = cpuMs();
    line += `  analyze ${(t2 - t1).toFixed(0).padStart(6)} ms`;
    const sink = new Console(new Writable({ write: (_chunk, _encoding, done) => done() }));
    const original = console.log;
    console.log = sink.log.bind(sink);
    try {
      printAnalysis(name, bytes.byteLength, analysis);
    } finally {
      console.log = original;
    }
    line += `  print ${(cpuMs() - t2).toFixed(0).padStart(6)} ms  (${analysis.linears.length} linear, ${analysis.attention.length} attention)`;
  } catch (error) {
    line += `  FAILED after ${(cpuMs() - t1).toFixed(0)} ms: ${String(error).slice(0, 120)}`;
  }
  console.log(line);
}
