// Human-readable `lab info` output. Widths are computed with loops (a Math.max(...rows) spread
// overflows the stack at 10⁵ layers) and long lists and names are cut to keep lines readable.
import type { ModelAnalysis, TensorInfo } from '../core/model';
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

export function printAnalysis(file: string, sizeBytes: number, a: ModelAnalysis): void {
  console.log(`${file}
  size          ${formatBytes(sizeBytes)} (measured)
  parameters    ${formatCount(a.totalParams)}
  task          ${a.task} (${a.taskReason})
  opsets        ${a.opsetImports.map((o) => `${shortName(o.domain || 'ai.onnx')} ${o.version}`).join(', ')}
  inputs        ${tensorList(a.inputs)}
  outputs       ${tensorList(a.outputs)}
  blocks        ${a.numBlocks} (from ${a.blockSource})
`);
  console.log(`Linear layers (${a.linears.length}):`);
  console.log(
    table(
      ['block', 'layer', 'role', 'op', 'C_out x C_in', 'params'],
      a.linears.map((l) => [String(l.block ?? '-'), shortName(l.name), l.role, [l.opType, ...l.weightPath].join('<-'), `${l.outFeatures} x ${l.inFeatures}`, formatCount(l.params)]),
    ),
  );
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
