// `npm run bench`: a program, not a test. Each section prints one table in which every row is a
// time and its ratio against a baseline measured in the same run (named in the table's notes).
//
//   npm run bench                              every section
//   npm run bench -- --only prune              layer + model + kernels (io: --only io)
//   npm run bench -- --only layer,kernels      any of: io, infer, prune, layer, model, kernels, sparse, latency
//   npm run bench -- --only sparse             dense vs 2:4 vs block-sparse matmul kernels (bench/sparse.ts)
//   npm run bench -- --only latency            the latency table (bundled LM, GPT-2-small shapes), predicted vs measured
//   npm run bench -- digits-vit                io on that model only; the model section prunes it
//   npm run bench -- --torch-threads 2         PyTorch's intra-op threads (default 1, like Node's)
//   npm run bench -- --calib-samples 32        model section: calibration samples (default 8)
//   npm run bench -- --model-runs 3            model section: timed runs per calibrated config (default 1)
//   LAB_GPU_BACKEND=vulkan npm run bench       the WebGPU backend (see src/core/gpu/testing/nodeDevice.ts)
//   npm run bench -- --only gpt2               GPT-2-small-sized model, Wanda + SparseGPT (many minutes; not in the default run)
//   npm run bench -- --only gpt2 --gpt2-blocks 2 --gpt2-methods wanda   a smaller, quicker instance
//
// Sections: io.ts (parse/write/eval), layer.ts (one 3072×768 layer: CPU vs WebGPU vs PyTorch; its
// RTN/GPTQ rows in quant.ts),
// model.ts (compressModel on the bundled LM: CPU jobs vs WebGPU jobs), kernels.ts (GPU kernels vs
// CPU references). The tables go to stdout as Markdown (docs/benchmarks.md quotes them),
// progress to stderr, and everything to bench/results/latest.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import type { ModelIndex } from '../src/core/catalog/modelCard.ts';
import { acquireBenchGpu, type GpuOutcome } from './gpu.ts';
import { inferSection } from './infer.ts';
import { ioSection } from './io.ts';
import { kernelSection } from './kernels.ts';
import { sparseSection } from './sparse.ts';
import { layerSection } from './layer.ts';
import { formatTable, reason, type Table } from './measure.ts';
import { modelSection } from './model.ts';
import { gpt2Section } from './gpt2.ts';
import { latencySection } from './latency.ts';
import type { PruneMethod } from '../src/core/prune/methods.ts';
import { BENCH_PYTHON, torchComparable, type TorchOutcome } from './torch.ts';

const SECTIONS = ['io', 'infer', 'layer', 'model', 'kernels', 'sparse', 'latency', 'gpt2'] as const;
type Section = (typeof SECTIONS)[number];
/**
 * The default run: gpt2 takes many minutes, so it runs only when named. sparse (GPT-2-sized
 * matmuls on a software adapter) takes about 8 minutes on a loaded 2-core machine, but it is the
 * answer to "does sparsity buy speed here?", so it stays in.
 */
const DEFAULT_SECTIONS: readonly Section[] = ['io', 'infer', 'layer', 'model', 'kernels', 'sparse', 'latency'];
const GROUPS: Record<string, readonly Section[]> = { prune: ['layer', 'model', 'kernels'], all: SECTIONS };

interface Args {
  sections: Set<Section>;
  modelId?: string;
  torchThreads: number;
  calibSamples: number;
  modelRuns: number;
  gpt2Blocks: number;
  gpt2Samples: number;
  gpt2Methods: PruneMethod[];
}

function parseArgs(argv: string[]): Args {
  // The defaults keep the whole run within about five minutes on the 2-core build machine.
  const args: Args = { sections: new Set(DEFAULT_SECTIONS), torchThreads: 1, calibSamples: 8, modelRuns: 1, gpt2Blocks: 12, gpt2Samples: 16, gpt2Methods: ['wanda', 'sparsegpt'] };
  const positive = (option: string, value: string | undefined) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${option} expects a positive integer, got ${value}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--only') {
      const names = (argv[++i] ?? '').split(',').filter(Boolean);
      const chosen = names.flatMap((name) => GROUPS[name] ?? (SECTIONS.includes(name as Section) ? [name as Section] : []));
      const unknown = names.filter((name) => !(name in GROUPS) && !SECTIONS.includes(name as Section));
      if (unknown.length > 0 || chosen.length === 0) throw new Error(`--only ${names.join(',')}: expected a comma list of ${[...Object.keys(GROUPS), ...SECTIONS].join(', ')}`);
      args.sections = new Set(chosen);
    } else if (arg === '--torch-threads') {
      args.torchThreads = positive(arg, argv[++i]);
    } else if (arg === '--calib-samples') {
      args.calibSamples = positive(arg, argv[++i]);
    } else if (arg === '--model-runs') {
      args.modelRuns = positive(arg, argv[++i]);
    } else if (arg === '--gpt2-blocks') {
      args.gpt2Blocks = positive(arg, argv[++i]);
    } else if (arg === '--gpt2-samples') {
      args.gpt2Samples = positive(arg, argv[++i]);
    } else if (arg === '--gpt2-methods') {
      args.gpt2Methods = (argv[++i] ?? '').split(',').filter(Boolean) as PruneMethod[];
    } else if (arg.startsWith('--')) {
      throw new Error(`unknown option ${arg}`);
    } else {
      args.modelId = arg;
    }
  }
  return args;
}

const progress = (line: string) => console.error(`[bench] ${line}`);

function header(args: Args, gpu: GpuOutcome | undefined, torch: TorchOutcome | undefined, loadAtStart: number[]): string[] {
  const cpu = cpus();
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' / ');
  const lines = [
    `node ${process.version} on ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}; the CPU path runs in one JS thread, ORT wasm with numThreads 1`,
    `load average (1/5/15 min) at start ${load(loadAtStart)}, at end ${load(loadavg())}: other processes share these cores`,
  ];
  if (gpu === undefined) lines.push('GPU: not used by the sections run');
  else if (gpu.ok) {
    lines.push(`GPU adapter: ${gpu.gpu.description}`);
    lines.push(`adapter.info: ${gpu.gpu.adapterInfo}`);
    // A software adapter runs shaders on CPU threads of its own, so "GPU" rows may use more cores than the CPU path's one.
    if (/llvmpipe/i.test(gpu.gpu.adapterInfo)) lines.push(`llvmpipe shader threads: LP_NUM_THREADS=${process.env.LP_NUM_THREADS ?? 'unset (one per core)'}`);
    if (/swiftshader/i.test(gpu.gpu.adapterInfo)) lines.push('SwiftShader: a software Vulkan device on CPU threads');
    for (const note of gpu.gpu.notes) lines.push(`GPU note: ${note}`);
  } else lines.push(`GPU: none — ${gpu.reason}`);
  if (torch === undefined) lines.push('PyTorch: not used by the sections run');
  else if (torch.ok) {
    lines.push(`PyTorch ${torch.info.torch} (numpy ${torch.info.numpy}, Python ${torch.info.python}, ${BENCH_PYTHON}), torch.set_num_threads(${torch.info.threads}), OPENBLAS_NUM_THREADS=${torch.info.threads}`);
    const comparable = torchComparable(torch.info) ? '' : ' — NOT COMPARABLE: the reference BLAS is several times slower than OpenBLAS (apt-get install libopenblas0-pthread); ratios against PyTorch are not printed';
    lines.push(`BLAS loaded by PyTorch: ${torch.info.blas.name} (${torch.info.blas.paths.join(', ') || 'no BLAS library mapped'})${comparable}`);
  }
  else lines.push(`PyTorch: not run — ${torch.reason}`);
  lines.push(`sections: ${SECTIONS.filter((s) => args.sections.has(s)).join(', ')}`);
  return lines;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const loadAtStart = loadavg();
  // The device, and Vite which loads its modules, only when a GPU section runs: after io.
  let gpu: GpuOutcome | undefined;
  const gpuDevice = async (): Promise<GpuOutcome> => {
    if (gpu === undefined) {
      progress('acquiring a WebGPU device…');
      gpu = await acquireBenchGpu();
      progress(gpu.ok ? `GPU: ${gpu.gpu.description}` : `no GPU: ${gpu.reason}`);
    }
    return gpu;
  };

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
  await run('infer', () => inferSection());
  await run('layer', async () => {
    const result = await layerSection({ gpu: await gpuDevice(), torchThreads: args.torchThreads });
    torch = result.torch;
    tables.push(result.targets, result.linalg, result.quant);
    return result.table;
  });
  await run('model', async () => modelSection({ gpu: await gpuDevice(), modelId: args.modelId, calibSamples: args.calibSamples, calibratedRuns: args.modelRuns }));
  await run('kernels', async () => kernelSection(await gpuDevice()));
  await run('sparse', async () => sparseSection(await gpuDevice()));
  await run('latency', async () => {
    const [parts, predicted] = await latencySection();
    tables.push(parts);
    return predicted;
  });
  await run('gpt2', () => gpt2Section({ blocks: args.gpt2Blocks, calibSamples: args.gpt2Samples, methods: args.gpt2Methods }));

  const lines = header(args, gpu, torch, loadAtStart);
  const elapsed = (performance.now() - started) / 1000;
  console.log(`## Compression Lab benchmark\n\n${lines.map((l) => `${l}  `).join('\n')}\nwall time ${elapsed.toFixed(0)} s\n`);
  for (const table of tables) console.log(formatTable(table));

  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/latest.json', JSON.stringify({ date: new Date().toISOString(), header: lines, wallSeconds: elapsed, tables }, null, 2));
  if (gpu?.ok) gpu.gpu.device.destroy();
}

await main();
