// Human-readable `lab info` output. Widths are computed with loops (a Math.max(...rows) spread
// overflows the stack at 10⁵ layers) and long lists and names are cut to keep lines readable.
import type { LayerCompression, ModelAnalysis, TensorInfo } from '../core/model';
import { describePattern } from '../core/prune/patterns.ts';
import { shortName } from '../core/onnx/display.ts';
import { formatBytes, formatCount } from '../core/report/format';

/** Graph inputs or outputs listed on one line before "and N more". */
const LISTED_TENSORS = 8;

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => rows.reduce((width, r) => Math.max(width, r[i].length), h.length));
  const line = (cells: string[]) => cells.map((c, i) => (i >= cells.length - 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const shape = (s: (number | string | null)[] | null) => (s ? shortName(`[${s.map((d) => d ?? '?').join(', ')}]`) : '?');

function tensorList(tensors: readonly TensorInfo[]): string {
  const shown = tensors.slice(0, LISTED_TENSORS).map((t) => `${shortName(t.name)}: ${t.dtype} ${shape(t.shape)}`).join('; ');
  return tensors.length > LISTED_TENSORS ? `${shown}; and ${formatCount(tensors.length - LISTED_TENSORS)} more` : shown;
}

/** "50.0 % 2:4", "0.0 %", "?" when the weights could not be read. */
function zerosCell(layer: LayerCompression | undefined): string {
  if (layer === undefined || layer.zeroShare === null) return '?';
  const share = `${(layer.zeroShare * 100).toFixed(1)} %`;
  return layer.pattern ? `${share} ${describePattern(layer.pattern)}` : share;
}

/** Packed-weight nodes that are not linear layers (MatMulNBits, MatMulInteger, ...). */
function printPackedNodes(a: ModelAnalysis): void {
  const linearIds = new Set(a.linears.map((l) => l.id));
  const nodes = a.compression.layers.filter((layer) => !linearIds.has(layer.id));
  if (nodes.length === 0) return;
  console.log(`\nPacked-weight nodes (${nodes.length}):`);
  console.log(
    table(
      ['layer', 'op', 'stored', 'elements', 'zeros'],
      nodes.map((n) => [shortName(n.name), n.packed?.via ?? '-', n.packed?.dtype ?? '-', formatCount(n.elements), zerosCell(n)]),
    ),
  );
}

export function printAnalysis(file: string, sizeBytes: number, a: ModelAnalysis): void {
  console.log(`${file}
  size          ${formatBytes(sizeBytes)} (measured)
  parameters    ${formatCount(a.totalParams)}
  task          ${a.task} (${a.taskReason})
  opsets        ${a.opsetImports.map((o) => `${shortName(o.domain || 'ai.onnx')} ${o.version}`).join(', ')}
  inputs        ${tensorList(a.inputs)}
  outputs       ${tensorList(a.outputs)}
  blocks        ${a.numBlocks} (from ${a.blockSource})
  compression   ${a.compression.description}
`);
  console.log(`Linear layers (${a.linears.length}):`);
  const compression = new Map(a.compression.layers.map((layer) => [layer.id, layer]));
  console.log(
    table(
      ['block', 'layer', 'role', 'op', 'C_out x C_in', 'params', 'zeros'],
      a.linears.map((l) => [String(l.block ?? '-'), shortName(l.name), l.role, [l.opType, ...l.weightPath].join('<-'), `${l.outFeatures} x ${l.inFeatures}`, formatCount(l.params), zerosCell(compression.get(l.id))]),
    ),
  );
  printPackedNodes(a);
  console.log(`\nAttention (${a.attention.length} softmax sites):`);
  console.log(
    table(
      ['block', 'softmax', 'mask', 'heads', 'head dim'],
      a.attention.map((s) => [String(s.block ?? '-'), shortName(s.softmaxNode), s.causalMask ? 'causal' : 'none', String(s.heads ?? 'unknown'), String(s.headDim ?? '-')]),
    ),
  );
  for (const note of a.unsupported) console.log(`unsupported: ${note}`);
  for (const note of a.warnings) console.log(`warning: ${note}`);
}
