// Human-readable `lab info` output.
import type { ModelAnalysis } from '../core/model';
import { formatBytes, formatCount } from '../core/report/format';

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= cells.length - 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function printAnalysis(file: string, sizeBytes: number, a: ModelAnalysis): void {
  const shape = (s: (number | string | null)[] | null) => (s ? `[${s.map((d) => d ?? '?').join(', ')}]` : '?');
  console.log(`${file}
  size          ${formatBytes(sizeBytes)} (measured)
  parameters    ${formatCount(a.totalParams)}
  task          ${a.task} (${a.taskReason})
  opsets        ${a.opsetImports.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ')}
  inputs        ${a.inputs.map((t) => `${t.name}: ${t.dtype} ${shape(t.shape)}`).join('; ')}
  outputs       ${a.outputs.map((t) => `${t.name}: ${t.dtype} ${shape(t.shape)}`).join('; ')}
  blocks        ${a.numBlocks} (from ${a.blockSource})
`);
  console.log(`Linear layers (${a.linears.length}):`);
  console.log(
    table(
      ['block', 'layer', 'role', 'op', 'C_out x C_in', 'params'],
      a.linears.map((l) => [String(l.block ?? '-'), l.name, l.role, [l.opType, ...l.weightPath].join('<-'), `${l.outFeatures} x ${l.inFeatures}`, formatCount(l.params)]),
    ),
  );
  console.log(`\nAttention (${a.attention.length} softmax sites):`);
  console.log(
    table(
      ['block', 'softmax', 'mask', 'heads', 'head dim'],
      a.attention.map((s) => [String(s.block ?? '-'), s.softmaxNode, s.causalMask ? 'causal' : 'none', String(s.heads ?? 'unknown'), String(s.headDim ?? '-')]),
    ),
  );
  for (const note of [...a.unsupported.map((u) => `unsupported: ${u}`), ...a.warnings.map((w) => `warning: ${w}`)]) console.log(note);
}
