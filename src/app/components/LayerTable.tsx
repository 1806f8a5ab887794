import { useEffect, useState } from 'react';
import { formatCount } from '../../core/report/format';
import { useLab } from '../store';
import { ScrollRegion } from './ScrollRegion';

/**
 * Rows rendered at once: GPT-2 small's 49 layers fit one page. A 1 B-parameter model has hundreds
 * of linear layers; laying out 385 rows in one task blocked the main thread for 300–500 ms, and
 * 100 rows for 125 ms, on the 2-core build machine under load (e2e/gpt2.e2e.ts), over the 100 ms
 * the issue allows.
 */
export const LAYER_PAGE_ROWS = 50;

export function LayerTable() {
  const analysis = useLab((s) => s.model.analysis);
  const [page, setPage] = useState(0);
  useEffect(() => setPage(0), [analysis]);
  if (!analysis) return null;
  const total = analysis.linears.length;
  const pages = Math.max(1, Math.ceil(total / LAYER_PAGE_ROWS));
  const current = Math.min(page, pages - 1);
  const first = current * LAYER_PAGE_ROWS;
  const rows = analysis.linears.slice(first, first + LAYER_PAGE_ROWS);
  return (
    <section className="panel wide" aria-labelledby="layers-title">
      <h2 id="layers-title">
        Linear layers ({total}) in {analysis.numBlocks} blocks
      </h2>
      <p className="muted">
        W is C_out × C_in (y = W x). Blocks found from {analysis.blockSource === 'name' ? 'module names' : analysis.blockSource === 'structure' ? 'graph structure' : 'nowhere'}.
      </p>
      {pages > 1 && (
        <p className="pager" data-testid="layer-pager">
          <button type="button" onClick={() => setPage(current - 1)} disabled={current === 0}>
            Previous
          </button>
          <span>
            rows {first + 1}–{first + rows.length} of {total}
          </span>
          <button type="button" onClick={() => setPage(current + 1)} disabled={current === pages - 1}>
            Next
          </button>
        </p>
      )}
      <ScrollRegion label="Linear layers">
        <table data-testid="linear-layers">
          <thead>
            <tr>
              <th>block</th>
              <th>layer</th>
              <th>role</th>
              <th>op</th>
              <th className="num">C_out × C_in</th>
              <th className="num">params</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((l) => (
              <tr key={l.id}>
                <td>{l.block ?? '—'}</td>
                <td title={l.nodeNames.join(', ')}>{l.name}</td>
                <td>
                  <span className="role" title={`role from ${l.roleSource}`}>
                    {l.role}
                  </span>
                </td>
                <td>
                  {l.opType}
                  {l.weightPath.length > 0 && ` ← ${l.weightPath.join(' ← ')}`}
                </td>
                <td className="num">
                  {l.outFeatures} × {l.inFeatures}
                </td>
                <td className="num">{formatCount(l.params)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollRegion>
    </section>
  );
}

export function AttentionPanel() {
  const analysis = useLab((s) => s.model.analysis);
  if (!analysis) return null;
  const notes = [...analysis.unsupported, ...analysis.warnings];
  return (
    <section className="panel" aria-labelledby="attention-title">
      <h2 id="attention-title">Attention ({analysis.attention.length} softmax sites)</h2>
      {analysis.attention.length > 0 && (
        <table data-testid="attention-sites">
          <thead>
            <tr>
              <th>block</th>
              <th>site</th>
              <th className="num">heads</th>
              <th className="num">head dim</th>
              <th>mask</th>
            </tr>
          </thead>
          <tbody>
            {analysis.attention.map((a) => (
              <tr key={a.softmaxNode}>
                <td>{a.block ?? '—'}</td>
                <td title={`Softmax node ${a.softmaxNode}`}>{a.block === null ? 'attention' : `attention of block ${a.block}`}</td>
                <td className="num">{a.heads ?? 'unknown'}</td>
                <td className="num">{a.headDim ?? '—'}</td>
                <td>{a.causalMask ? 'causal' : 'none'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {notes.length > 0 && (
        <ul className="warnings" data-testid="analysis-notes">
          {notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
