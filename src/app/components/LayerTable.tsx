import { formatCount } from '../../core/report/format';
import { useLab } from '../store';

export function LayerTable() {
  const analysis = useLab((s) => s.model.analysis);
  if (!analysis) return null;
  return (
    <section className="panel wide" aria-labelledby="layers-title">
      <h2 id="layers-title">
        Linear layers ({analysis.linears.length}) in {analysis.numBlocks} blocks
      </h2>
      <p className="muted">
        W is C_out × C_in (y = W x). Blocks found from {analysis.blockSource === 'name' ? 'module names' : analysis.blockSource === 'structure' ? 'graph structure' : 'nowhere'}.
      </p>
      <div className="table-scroll">
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
            {analysis.linears.map((l) => (
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
      </div>
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
              <th>softmax node</th>
              <th className="num">heads</th>
              <th className="num">head dim</th>
              <th>mask</th>
            </tr>
          </thead>
          <tbody>
            {analysis.attention.map((a) => (
              <tr key={a.softmaxNode}>
                <td>{a.block ?? '—'}</td>
                <td>{a.softmaxNode}</td>
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
