// The quantization quality table: RTN / GPTQ / AWQ / QUIK at 8, 4, 3 and 2 bits, per output row
// and with groups of 32, the MX formats, and 50 % SparseGPT followed by 4-bit GPTQ — evaluated on
// each bundled model's eval.json, with the measured size of every written file — written to
// docs/quantization-quality.md. A program, not a test: it takes minutes.
//
//   node --import tsx scripts/quality/quantTable.ts [--model public/models/kjv-charlm ...]
//        [--samples 32] [--seed 0] [--mode sequential] [--out docs/quantization-quality.md]
//
// Every run goes through compressModel, the code the CLI and the browser run, with calibration on
// onnxruntime-web's wasm backend (one thread); the metric is the written file's, evaluated again.
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CompressReport } from '../../src/core/compress';
import type { EvalMetrics } from '../../src/core/eval/metrics';
import { MX_FORMAT_NAMES } from '../../src/core/quant/mx';
import { parseRecipe, type Recipe } from '../../src/core/recipe';
import { datasetWords, evaluateBytes, headline, loadBundled, meanRelativeError, ortVersion, root, runRecipe, secondary, type Bundled } from './common';

const INT_METHODS = ['rtn', 'gptq', 'awq', 'quik'] as const;
const BITS = [8, 4, 3, 2];
const GRANULARITIES = ['row', 'g32'] as const;

type StageJson = Record<string, unknown>;

interface Settings {
  samples: number;
  seed: number;
  mode: 'sequential' | 'one-pass';
}

interface Row {
  /** Which table cell: method × granularity × bits, or an MX format, or a combination. */
  method: string;
  granularity: string;
  bits: string;
  stages: StageJson[];
  metrics?: EvalMetrics;
  report?: CompressReport;
  fileBytes?: number;
  problem?: string;
  seconds: number;
}

const methodLabel: Record<string, string> = { rtn: 'RTN', gptq: 'GPTQ', awq: 'AWQ', quik: 'QUIK (outliers in float)' };

/**
 * QUIK's groups run over the C_in − k integer columns, which must be a multiple of the group: with
 * its default k = 8 that is no multiple of 32 on 128-wide layers, so its grouped row is groups of
 * 16 with k = 16 (C_in − 16 is a multiple of 16 on every bundled layer).
 */
const QUIK_GROUPED = { groupSize: 16, outlierColumns: 16 };

function intStage(method: string, bits: number, granularity: (typeof GRANULARITIES)[number]): StageJson {
  if (method === 'quik' && granularity === 'g32') return { kind: 'quantize', method, bits, granularity: 'group', groupSize: QUIK_GROUPED.groupSize, quik: { outlierColumns: QUIK_GROUPED.outlierColumns }, export: 'auto' };
  return { kind: 'quantize', method, bits, ...(granularity === 'row' ? { granularity: 'row' } : { granularity: 'group', groupSize: 32 }), export: 'auto' };
}

const granularityLabel = (method: string, granularity: string) =>
  granularity === 'row' ? 'output row' : method === 'quik' ? `group of ${QUIK_GROUPED.groupSize}, k = ${QUIK_GROUPED.outlierColumns}` : 'group of 32';

function tableRows(): Row[] {
  const rows: Row[] = [];
  for (const method of INT_METHODS)
    for (const granularity of GRANULARITIES)
      for (const bits of BITS) rows.push({ method, granularity, bits: String(bits), stages: [intStage(method, bits, granularity)], seconds: 0 });
  for (const format of [...MX_FORMAT_NAMES].reverse()) rows.push({ method: 'mx', granularity: '32-element blocks', bits: format, stages: [{ kind: 'quantize', method: 'mx', mxFormat: format, export: 'auto' }], seconds: 0 });
  for (const granularity of GRANULARITIES)
    rows.push({ method: 'sparsegpt50+gptq', granularity, bits: '4', stages: [{ kind: 'prune', method: 'sparsegpt', pattern: 'unstructured', sparsity: 0.5 }, intStage('gptq', 4, granularity)], seconds: 0 });
  return rows;
}

function recipeFor(row: Row, settings: Settings): Recipe {
  return parseRecipe({ version: 2, seed: settings.seed, calibration: { samples: settings.samples, mode: settings.mode }, stages: row.stages });
}

async function runOne(bundled: Bundled, row: Row, settings: Settings): Promise<void> {
  let recipe: Recipe;
  try {
    recipe = recipeFor(row, settings);
  } catch (e) {
    row.problem = (e as Error).message;
    return;
  }
  Object.assign(row, await runRecipe(bundled, recipe));
}

const find = (rows: Row[], method: string, granularity: string, bits: string) => rows.find((r) => r.method === method && r.granularity === granularity && r.bits === bits);

/** A classifier's top-1 moves in steps of one image: its mean NLL goes beside it. */
const cellText = (metrics: EvalMetrics) => (metrics.task === 'causal-lm' ? headline(metrics).text : `${headline(metrics).text} · ${metrics.meanNll.toFixed(3)}`);

function intTable(rows: Row[], dense: EvalMetrics): string[] {
  const lines = [`| method | scale per | ${BITS.map((b) => `${b}-bit`).join(' | ')} |`, `|---|---|${BITS.map(() => '---:').join('|')}|`];
  lines.push(`| dense (float32) | – | ${BITS.map(() => cellText(dense)).join(' | ')} |`);
  for (const method of INT_METHODS)
    for (const granularity of GRANULARITIES) {
      const cells = BITS.map((bits) => {
        const row = find(rows, method, granularity, String(bits));
        return row?.metrics ? cellText(row.metrics) : 'n/a';
      });
      lines.push(`| ${methodLabel[method]} | ${granularityLabel(method, granularity)} | ${cells.join(' | ')} |`);
    }
  return lines;
}

function otherTable(rows: Row[]): string[] {
  const lines = ['| recipe | format | metric | bits per weight (quantized layers, analytic) |', '|---|---|---:|---:|'];
  for (const row of rows.filter((r) => r.method === 'mx' || r.method.startsWith('sparsegpt'))) {
    const what = row.method === 'mx' ? row.bits.toUpperCase() : `50 % SparseGPT, then GPTQ 4-bit per ${row.granularity === 'row' ? 'output row' : 'group of 32'}`;
    lines.push(`| ${what} | ${row.granularity} | ${row.metrics ? cellText(row.metrics) : `n/a: ${row.problem ?? ''}`} | ${row.report ? bitsPerWeight(row.report).toFixed(2) : ''} |`);
  }
  return lines;
}

/** Mean analytic bits per weight over the quantized layers, weighted by size. */
function bitsPerWeight(report: CompressReport): number {
  let bits = 0;
  let weights = 0;
  for (const layer of report.quantized) {
    const n = layer.shape[0] * layer.shape[1];
    bits += layer.bitsPerWeight * n;
    weights += n;
  }
  return weights === 0 ? 32 : bits / weights;
}

/**
 * The number the orderings compare: perplexity for an LM; for a classifier its mean NLL, since
 * top-1 on 360 images moves in steps of 0.28 points and ties hide most differences. Lower is better.
 */
function orderingValue(metrics: EvalMetrics): { value: number; label: string } {
  return metrics.task === 'causal-lm' ? { value: metrics.perplexity, label: 'perplexity' } : { value: metrics.meanNll, label: 'mean NLL' };
}

/** GPTQ vs RTN per output row at 3 and 4 bits (the GPTQ paper's ordering), and what AWQ and QUIK do. */
function orderingCheck(rows: Row[], dense: EvalMetrics): string[] {
  const value = (method: string, granularity: string, bits: number) => {
    const row = find(rows, method, granularity, String(bits));
    return row?.metrics ? orderingValue(row.metrics).value : undefined;
  };
  const label = orderingValue(dense).label;
  const fmt = (x: number) => x.toFixed(3);
  const lines: string[] = [`Compared by ${label} (lower is better):`, ''];
  const gaps: Record<number, number | undefined> = {};
  for (const bits of [4, 3]) {
    const [rtn, gptq] = [value('rtn', 'row', bits), value('gptq', 'row', bits)];
    if (rtn === undefined || gptq === undefined) continue;
    gaps[bits] = rtn - gptq;
    lines.push(`- ${bits}-bit per row: GPTQ ${gaps[bits]! > 0 ? 'beats' : 'does not beat'} RTN by ${fmt(gaps[bits]!)} (${fmt(gptq)} vs ${fmt(rtn)}).`);
  }
  if (gaps[3] !== undefined && gaps[4] !== undefined) lines.push(`- The gap ${gaps[3] > gaps[4] ? 'widens' : 'does not widen'} from 4 to 3 bits (${fmt(gaps[4])} → ${fmt(gaps[3])}), ${gaps[3] > gaps[4] ? 'as in' : 'unlike'} the GPTQ paper's ordering.`);
  for (const method of ['awq', 'quik'])
    for (const granularity of GRANULARITIES) {
      const cells = BITS.flatMap((bits) => {
        const [rtn, x] = [value('rtn', granularity, bits), value(method, granularity, bits)];
        return rtn === undefined || x === undefined ? [] : [`${bits}-bit ${rtn - x >= 0 ? '+' : '−'}${fmt(Math.abs(rtn - x))}`];
      });
      if (cells.length) lines.push(`- ${methodLabel[method]} (${granularityLabel(method, granularity)}) vs RTN (${granularityLabel('rtn', granularity)}), ${label} lower by (+ = better): ${cells.join(', ')}.`);
    }
  return lines;
}

function detailTable(rows: Row[]): string[] {
  const lines = [
    '| method | granularity | bits / format | metric | second metric | file bytes (measured) | analytic bytes | packed / simulated layers | mean rel. error | wall s (with eval) | weights SHA-256 (first 12) |',
    '|---|---|---|---:|---:|---:|---:|---|---:|---:|---|',
  ];
  for (const row of rows) {
    if (!row.metrics || !row.report) {
      lines.push(`| ${row.method} | ${row.granularity} | ${row.bits} | n/a | | | | | | | ${row.problem ?? ''} |`);
      continue;
    }
    const t = row.report.totals;
    lines.push(
      `| ${row.method} | ${row.granularity} | ${row.bits} | ${headline(row.metrics).text} | ${secondary(row.metrics)} | ${row.fileBytes!.toLocaleString('en')} | ${t.analyticQuantizedFileBytes?.toLocaleString('en') ?? '–'} | ${t.packedLayers} / ${t.simulatedLayers} | ${meanRelativeError(row.report.quantized)} | ${row.seconds.toFixed(1)} | \`${row.report.weightsSha256.slice(0, 12)}\` |`,
    );
  }
  return lines;
}

function modelSection(bundled: Bundled, dense: EvalMetrics, rows: Row[], settings: Settings): string[] {
  const { evalSize, calibSize } = datasetWords(bundled);
  const head = headline(dense);
  return [
    `## ${bundled.card.name} (\`${relative(root, bundled.dir)}\`)`,
    '',
    `Evaluated on \`${bundled.card.files.eval}\` (${evalSize}); ${head.label}, ${head.better} is better. Dense: ${head.text} (${secondary(dense)}), file ${bundled.bytes.length.toLocaleString('en')} bytes.`,
    `Calibration: ${settings.samples} of the ${calibSize} samples of \`${bundled.card.files.calib}\`, seed ${settings.seed}, ${settings.mode}.`,
    '',
    ...intTable(rows, dense),
    '',
    ...otherTable(rows),
    '',
    ...orderingCheck(rows, dense),
    '',
    '<details><summary>Every run</summary>',
    '',
    ...detailTable(rows),
    '',
    '</details>',
    '',
  ];
}

function header(started: Date, seconds: number, command: string, load: string): string[] {
  return [
    '# Quantization quality',
    '',
    `Generated by \`${command}\` (scripts/quality/quantTable.ts). Do not edit by hand; rerun the script.`,
    '',
    `- Machine time: ${started.toISOString()} (run took ${(seconds / 60).toFixed(1)} min); ${cpus().length} CPU core(s), Node ${process.version}, onnxruntime-web ${ortVersion()} (wasm, 1 thread). Load average ${load}.`,
    '- Every quantize stage: asymmetric grid, no MSE clip, export "auto" (MatMulNBits where ONNX Runtime runs the format — 2, 4 and 8 bits, groups of a power of two ≥ 16 or per row — simulated float weights elsewhere; the metric is the same either way, within 1e-6). GPTQ: blocksize 128, percdamp 0.01, no act-order. AWQ: α grid of 20 on a sample of calibration.outputSample input tokens. QUIK: its default k = 8 outlier columns kept in float per row; with groups, groups of 16 and k = 16 (C_in − k must be a multiple of the group); no activation quantization (W4A8/W4A4: docs/quantization.md). MX: OCP MX v1.0 casts, 32-element blocks.',
    '- Embeddings and the head stay float32; every linear layer in the blocks is quantized.',
    '- Classifier cells read "top-1 · mean NLL": on 360 evaluation images top-1 moves in steps of 0.28 points, so the NLL shows what top-1 hides.',
    '- The metric is the written file\'s, evaluated again by the lab\'s `evaluate()` on onnxruntime-web (what `npm run lab -- eval` prints).',
    '',
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', multiple: true },
      samples: { type: 'string', default: '32' },
      seed: { type: 'string', default: '0' },
      mode: { type: 'string', default: 'sequential' },
      only: { type: 'string' },
      out: { type: 'string', default: 'docs/quantization-quality.md' },
    },
  });
  const settings: Settings = { samples: Number(values.samples), seed: Number(values.seed), mode: values.mode as Settings['mode'] };
  const defaults = ['public/models/kjv-charlm', 'public/models/digits-vit'].filter((dir) => existsSync(join(root, dir, 'model.onnx')));
  const dirs = (values.model ?? defaults).map((dir) => resolve(root, dir));
  const started = new Date();
  const t0 = performance.now();
  const loadAtStart = loadavg()[0].toFixed(1);
  const sections: string[] = [];
  for (const dir of dirs) {
    const bundled = loadBundled(dir);
    const dense = await evaluateBytes(bundled, bundled.bytes);
    console.error(`${bundled.card.id}: dense ${headline(dense).text}`);
    const rows = tableRows().filter((r) => !values.only || r.method === values.only);
    for (const row of rows) {
      await runOne(bundled, row, settings);
      console.error(`${bundled.card.id}: ${row.method} ${row.granularity} ${row.bits}: ${row.metrics ? headline(row.metrics).text : row.problem} (${row.seconds.toFixed(1)} s)`);
    }
    sections.push(...modelSection(bundled, dense, rows, settings));
  }
  const args = process.argv.slice(2).join(' ');
  const command = `node --import tsx scripts/quality/quantTable.ts${args ? ` ${args}` : ''}`;
  const load = `${loadAtStart} at the start, ${loadavg()[0].toFixed(1)} at the end (1-minute)`;
  writeFileSync(resolve(root, values.out!), [...header(started, (performance.now() - t0) / 1000, command, load), ...sections].join('\n'));
  console.error(`wrote ${values.out}`);
}

main().catch((e: Error) => {
  console.error(`error: ${e.stack ?? e.message}`);
  process.exit(1);
});
