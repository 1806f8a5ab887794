// `npm run gen:hf -- --preset gpt2|smollm-135m|qwen2.5-0.5b|tinyllama-1.1b --out DIR [--blocks N]
// [--external-data] [--seed S] [--layout transformersjs|flat] [--hidden H --heads N --kv-heads K
// --intermediate M --vocab V --max-positions P]`: an export folder with the real family's graph
// shape, seeded random weights and a real tokenizer (folder.ts). Node only.
import { parseArgs } from 'node:util';
import { writeHfFolder, type FolderLayout } from './folder.ts';
import { PRESET_NAMES, type PresetName } from './presets.ts';

const usage = `Usage: npm run gen:hf -- --preset ${PRESET_NAMES.join('|')} --out DIR [--blocks N] [--external-data] [--seed 1] [--layout transformersjs|flat] [--hidden H] [--heads N] [--kv-heads K] [--intermediate M] [--vocab V] [--max-positions P]`;

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} expects a positive integer, got ${value}`);
  return n;
}

function main(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      preset: { type: 'string' },
      out: { type: 'string' },
      blocks: { type: 'string' },
      'external-data': { type: 'boolean' },
      seed: { type: 'string' },
      layout: { type: 'string' },
      hidden: { type: 'string' },
      heads: { type: 'string' },
      'kv-heads': { type: 'string' },
      intermediate: { type: 'string' },
      vocab: { type: 'string' },
      'max-positions': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return console.log(usage);
  if (!values.out) throw new Error(`--out DIR is required\n${usage}`);
  if (!values.preset || !(PRESET_NAMES as string[]).includes(values.preset)) throw new Error(`--preset must be one of ${PRESET_NAMES.join(', ')}, got ${values.preset ?? 'nothing'}`);
  const layout = values.layout ?? 'transformersjs';
  if (layout !== 'transformersjs' && layout !== 'flat') throw new Error(`--layout must be transformersjs or flat, got ${layout}`);
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed expects a non-negative integer, got ${values.seed}`);
  const t0 = performance.now();
  const folder = writeHfFolder({
    preset: values.preset as PresetName,
    out: values.out,
    seed,
    layout: layout as FolderLayout,
    externalData: values['external-data'] === true,
    overrides: {
      layers: positive('blocks', values.blocks),
      hidden: positive('hidden', values.hidden),
      heads: positive('heads', values.heads),
      kvHeads: positive('kv-heads', values['kv-heads']),
      intermediate: positive('intermediate', values.intermediate),
      vocab: positive('vocab', values.vocab),
      maxPositions: positive('max-positions', values['max-positions']),
    },
  });
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
