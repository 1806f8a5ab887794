// `npm run gen:hf -- --preset gpt2|smollm-135m|qwen2.5-0.5b|tinyllama-1.1b --out DIR [--blocks N]
// [--external-data] [--seed S] [--layout transformersjs|flat] [--hidden H --heads N --kv-heads K
// --intermediate M --vocab V --max-positions P]`: an export folder with the real family's graph
// shape, seeded random weights and a real tokenizer (folder.ts). Node only.
import { parseArgs } from 'node:util';
import { positiveArg } from '../args.ts';
import { writeEncoderFolder } from './encoderFolder.ts';
import { ENCODER_PRESETS, type EncoderPresetName } from './encoderPresets.ts';
import { writeHfFolder, type FolderLayout } from './folder.ts';
import { PRESET_NAMES, type PresetName } from './presets.ts';

const ALL_PRESETS = [...PRESET_NAMES, ...Object.keys(ENCODER_PRESETS)];

const usage = `Usage: npm run gen:hf -- --preset ${ALL_PRESETS.join('|')} --out DIR [--blocks N] [--external-data] [--fused (decoders, bert-base)] [--seed 1] [--layout transformersjs|flat] [--hidden H] [--heads N] [--kv-heads K] [--intermediate M] [--vocab V] [--max-positions P] [--image-size 224 --patch-size 16 --labels 1000 (vit)] [--init-std S (tests: also draws biases and norm weights)]`;


function main(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      preset: { type: 'string' },
      out: { type: 'string' },
      blocks: { type: 'string' },
      'external-data': { type: 'boolean' },
      fused: { type: 'boolean' },
      seed: { type: 'string' },
      layout: { type: 'string' },
      hidden: { type: 'string' },
      heads: { type: 'string' },
      'kv-heads': { type: 'string' },
      intermediate: { type: 'string' },
      vocab: { type: 'string' },
      'max-positions': { type: 'string' },
      'init-std': { type: 'string' },
      'image-size': { type: 'string' },
      'patch-size': { type: 'string' },
      labels: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return console.log(usage);
  if (!values.out) throw new Error(`--out DIR is required\n${usage}`);
  if (!values.preset || !ALL_PRESETS.includes(values.preset)) throw new Error(`--preset must be one of ${ALL_PRESETS.join(', ')}, got ${values.preset ?? 'nothing'}`);
  const layout = values.layout ?? 'transformersjs';
  if (layout !== 'transformersjs' && layout !== 'flat') throw new Error(`--layout must be transformersjs or flat, got ${layout}`);
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed expects a non-negative integer, got ${values.seed}`);
  const initStd = values['init-std'] === undefined ? undefined : Number(values['init-std']);
  if (initStd !== undefined && !(initStd > 0)) throw new Error(`--init-std expects a positive number, got ${values['init-std']}`);
  const t0 = performance.now();
  const common = { out: values.out, seed, layout: layout as FolderLayout, externalData: values['external-data'] === true, ...(initStd === undefined ? {} : { initStd }) };
  const sizes = {
    layers: positiveArg('blocks', values.blocks),
    hidden: positiveArg('hidden', values.hidden),
    heads: positiveArg('heads', values.heads),
    intermediate: positiveArg('intermediate', values.intermediate),
    vocab: positiveArg('vocab', values.vocab),
    maxPositions: positiveArg('max-positions', values['max-positions']),
  };
  const folder = Object.hasOwn(ENCODER_PRESETS, values.preset)
    ? writeEncoderFolder({
        ...common,
        preset: values.preset as EncoderPresetName,
        fused: values.fused === true,
        overrides: { ...sizes, imageSize: positiveArg('image-size', values['image-size']), patchSize: positiveArg('patch-size', values['patch-size']), labels: positiveArg('labels', values.labels) },
      })
    : writeHfFolder({ ...common, preset: values.preset as PresetName, fused: values.fused === true, overrides: { ...sizes, kvHeads: positiveArg('kv-heads', values['kv-heads']) } });
  const seconds = (performance.now() - t0) / 1000;
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  const data = folder.dataPath ? ` + ${folder.dataPath} ${mb(folder.dataBytes)}` : '';
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(`${values.out}: ${values.preset}, ${folder.shape.layers} blocks, ${(folder.parameters / 1e6).toFixed(2)} M parameters; ${folder.graphPath} ${mb(folder.graphBytes)}${data}; ${seconds.toFixed(1)} s, peak RSS ${mb(peak)}`);
}

try {
  main(process.argv.slice(2));
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
}
