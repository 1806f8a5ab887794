// `npm run bench`: a program, not a test. Each section prints one table in which every row is a
// time and its ratio against a baseline measured in the same run (named in the table's notes).
//
//   npm run bench                              every section
//   npm run bench -- --only prune              layer + model + kernels (io: --only io)
//   npm run bench -- --only layer,kernels      any of: io, prune, layer, model, kernels
//   npm run bench -- digits-vit                io on that model only; the model section prunes it
//   npm run bench -- --torch-threads 2         PyTorch's intra-op threads (default 1, like Node's)
//   LAB_GPU_BACKEND=vulkan npm run bench       the WebGPU backend (see src/core/gpu/testing/nodeDevice.ts)
//
// Sections: io.ts (parse/write/eval), layer.ts (one 3072×768 layer: CPU vs WebGPU vs PyTorch),
// model.ts (pruneModel on the bundled LM: CPU jobs vs WebGPU jobs), kernels.ts (GPU kernels vs
// CPU references). The tables go to stdout as Markdown (docs/benchmarks.md quotes them),
// progress to stderr, and everything to bench/results/latest.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { ModelIndex } from '../src/core/catalog/modelCard.ts';
import { acquireBenchGpu, type GpuOutcome } from './gpu.ts';
import { ioSection } from './io.ts';
import { kernelSection } from './kernels.ts';
import { layerSection } from './layer.ts';
import { formatTable, reason, type Table } from './measure.ts';
import { modelSection } from './model.ts';
import { DEBIAN_PYTHON, type TorchOutcome } from './torch.ts';

const SECTIONS = ['io', 'layer', 'model', 'kernels'] as const;
type Section = (typeof SECTIONS)[number];
const GROUPS: Record<string, readonly Section[]> = { prune: ['layer', 'model', 'kernels'], all: SECTIONS };

interface Args {
  sections: Set<Section>;
  modelId?: string;
  torchThreads: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { sections: new Set(SECTIONS), torchThreads: 1 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--only') {
      const names = (argv[++i] ?? '').split(',').filter(Boolean);
      const chosen = names.flatMap((name) => GROUPS[name] ?? (SECTIONS.includes(name as Section) ? [name as Section] : []));
      const unknown = names.filter((name) => !(name in GROUPS) && !SECTIONS.includes(name as Section));
      if (unknown.length > 0 || chosen.length === 0) throw new Error(`--only ${names.join(',')}: expected a comma list of ${[...Object.keys(GROUPS), ...SECTIONS].join(', ')}`);
      args.sections = new Set(chosen);
    } else if (arg === '--torch-threads') {
      args.torchThreads = Number(argv[++i]);
      if (!Number.isInteger(args.torchThreads) || args.torchThreads < 1) throw new Error('--torch-threads expects a positive integer');
    } else if (arg.startsWith('--')) {
      throw new Error(`unknown option ${arg}`);
    } else {
      args.modelId = arg;
    }
  }
  return args;
}

const progress = (line: string) => console.error(`[bench] ${line}`);

function header(args: Args, gpu: GpuOutcome | undefined, torch: TorchOutcome | undefined): string[] {
  const cpu = cpus();
  const lines = [
    `node ${process.version} on ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}; the CPU path runs in one JS thread, ORT wasm with numThreads 1`,
  ];
  if (gpu === undefined) lines.push('GPU: not used by the sections run');
  else if (gpu.ok) {
    lines.push(`GPU adapter: ${gpu.gpu.description}`);
    lines.push(`adapter.info: ${gpu.gpu.adapterInfo}`);
    for (const note of gpu.gpu.notes) lines.push(`GPU note: ${note}`);
  } else lines.push(`GPU: none — ${gpu.reason}`);
  if (torch === undefined) lines.push('PyTorch: not used by the sections run');
  else if (torch.ok) lines.push(`PyTorch ${torch.info.torch} (numpy ${torch.info.numpy}, Python ${torch.info.python}, ${DEBIAN_PYTHON}), torch.set_num_threads(${torch.info.threads})`);
  else lines.push(`PyTorch: not run — ${torch.reason}`);
  lines.push(`sections: ${[...args.sections].join(', ')}`);
  return lines;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const needsGpu = ['layer', 'model', 'kernels'].some((s) => args.sections.has(s as Section));
  let gpu: GpuOutcome | undefined;
  if (needsGpu) {
    progress('acquiring a WebGPU device…');
    gpu = await acquireBenchGpu();
    progress(gpu.ok ? `GPU: ${gpu.gpu.description}` : `no GPU: ${gpu.reason}`);
  }

  const tables: Table[] = [];
  let torch: TorchOutcome | undefined;
  const run = async (section: Section, body: () => Promise<Table>) => {
    if (!args.sections.has(section)) return;
    progress(`section ${section}…`);
    const t0 = performance.now();
    try {
      tables.push(await body());
    } catch (error) {
      tables.push({ title: `${section}: failed`, notes: [reason(error)], columns: [{ header: 'error' }], rows: [[reason(error)]] });
    }
    progress(`section ${section} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };

  await run('io', () => {
    const index: ModelIndex = JSON.parse(readFileSync('public/models/index.json', 'utf8'));
    return ioSection(args.modelId ? index.models.filter((m) => m === args.modelId) : index.models);
  });
  await run('layer', async () => {
    const result = await layerSection({ gpu: gpu!, torchThreads: args.torchThreads });
    torch = result.torch;
    return result.table;
  });
  await run('model', () => modelSection({ gpu: gpu!, modelId: args.modelId }));
  await run('kernels', () => kernelSection(gpu!));

  const lines = header(args, gpu, torch);
  const elapsed = (performance.now() - started) / 1000;
  console.log(`## Compression Lab benchmark\n\n${lines.map((l) => `${l}  `).join('\n')}\nwall time ${elapsed.toFixed(0)} s\n`);
  for (const table of tables) console.log(formatTable(table));

  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/latest.json', JSON.stringify({ date: new Date().toISOString(), header: lines, wallSeconds: elapsed, tables }, null, 2));
  if (gpu?.ok) gpu.gpu.device.destroy();
}

await main();
