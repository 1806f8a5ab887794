// `npm run gen:gpt2 -- --out DIR [--blocks 12] [--vocab 50257] [--context 1024] [--seed 1]`:
// writes a GPT-2-shaped model folder with seeded random weights (see gpt2Model.ts), Node only.
// GPT-2 small by default: 12 blocks, d 768, 12 heads, 124 M parameters, a 498 MB model.onnx.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { positiveArg } from './args.ts';
import { GPT2_SMALL } from './gpt2Model.ts';
import { buildGpt2Files } from './gpt2Dir.ts';

const usage = 'Usage: npm run gen:gpt2 -- --out DIR [--blocks 12] [--vocab 50257] [--context 1024] [--d-model 768] [--heads 12] [--seed 1] [--seq-len 128] [--calib 32] [--eval 8]';

function positive(name: string, value: string | undefined, fallback: number): number {
  return positiveArg(name, value) ?? fallback;
}

function main(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      blocks: { type: 'string' },
      vocab: { type: 'string' },
      context: { type: 'string' },
      'd-model': { type: 'string' },
      heads: { type: 'string' },
      seed: { type: 'string' },
      'seq-len': { type: 'string' },
      calib: { type: 'string' },
      eval: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return console.log(usage);
  if (!values.out) throw new Error(`--out DIR is required\n${usage}`);
  const shape = {
    blocks: positive('blocks', values.blocks, GPT2_SMALL.blocks),
    vocab: positive('vocab', values.vocab, GPT2_SMALL.vocab),
    context: positive('context', values.context, GPT2_SMALL.context),
    dModel: positive('d-model', values['d-model'], GPT2_SMALL.dModel),
    heads: positive('heads', values.heads, GPT2_SMALL.heads),
  };
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed expects a non-negative integer, got ${values.seed}`);
  const t0 = performance.now();
  const files = buildGpt2Files({
    shape,
    seed,
    seqLen: positive('seq-len', values['seq-len'], Math.min(128, shape.context)),
    calibSequences: positive('calib', values.calib, 32),
    evalSequences: positive('eval', values.eval, 8),
  });
  mkdirSync(values.out, { recursive: true });
  writeFileSync(join(values.out, 'model.onnx'), files.onnx);
  writeFileSync(join(values.out, 'calib.json'), JSON.stringify(files.calib));
  writeFileSync(join(values.out, 'eval.json'), JSON.stringify(files.eval));
  writeFileSync(join(values.out, 'model.json'), `${JSON.stringify(files.card, null, 2)}\n`);
  const seconds = (performance.now() - t0) / 1000;
  const mb = (files.onnx.byteLength / 1e6).toFixed(1);
  console.log(`${values.out}: ${files.card.name}, ${(files.card.parameters / 1e6).toFixed(2)} M parameters, model.onnx ${mb} MB, in ${seconds.toFixed(1)} s`);
}

try {
  main(process.argv.slice(2));
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
}
