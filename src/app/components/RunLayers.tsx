// The selected run's layers: pattern, target and achieved sparsity, reconstruction error, time and
// where each job ran. Sticky headers; the exact values on hover. An error estimated on sampled
// tokens (no Hessian collected) is marked ≈ and says so on hover.
import { describeBackendUse } from '../../core/job';
import type { CompressReport } from '../../core/compress';
import { describeAwqScale, describeRelativeErrorBasis, type LayerPruneReport } from '../../core/compress/report';
import { exact, percent } from '../format';
import { measureMeanings } from '../glossary';
import { Explain } from './Explain';
import { ScrollRegion } from './ScrollRegion';
import { ShapeChanges } from './ShapeChanges';

/** A layer's relative error: ≈ when estimated on sampled tokens; the exact value and its basis on hover. */
function ErrorCell({ row }: { row: Pick<LayerPruneReport, 'relativeError' | 'relativeErrorBasis' | 'relativeErrorTokens'> }) {
  return (
    <td className="num" title={row.relativeError === null ? 'not measured (no calibration statistics)' : `${exact(row.relativeError)} (${describeRelativeErrorBasis(row)})`}>
      {row.relativeError === null ? '—' : `${row.relativeErrorBasis === 'sampled' ? '≈' : ''}${row.relativeError.toFixed(3)}`}
    </td>
  );
}

function QuantLayers({ report }: { report: CompressReport }) {
  return (
    <ScrollRegion label="Quantized layers of the run">
      <table data-testid="run-quant-layers" className="sticky">
        <thead>
          <tr>
            <th scope="col">Layer</th>
            <th scope="col">Format</th>
            <th scope="col" className="num">
              Bits/weight <Explain about="bits per weight" text="What the format stores per weight, scales and zero points included (analytic)." />
            </th>
            <th scope="col">Stored as</th>
            <th scope="col" className="num">
              Rel. error <Explain about="the relative error of quantization" text={measureMeanings.relativeError.explain} />
            </th>
            <th scope="col" className="num">
              ms
            </th>
          </tr>
        </thead>
        <tbody>
          {report.quantized.map((q) => (
            <tr key={`${q.stage}-${q.id}`} data-layer={q.id} data-export={q.export}>
              <th scope="row">{q.name}</th>
              <td>{q.format}</td>
              <td className="num" title={exact(q.bitsPerWeight)}>
                {q.bitsPerWeight.toFixed(2)}
              </td>
              <td title={[q.simulatedBecause, q.awq ? `AWQ: ${describeAwqScale(q.awq)}` : ''].filter(Boolean).join('; ') || undefined}>
                {q.export === 'packed' ? 'packed (MatMulNBits)' : `simulated${q.simulatedBecause ? ' *' : ''}`}
                {q.awq ? <small data-awq-scale>{` · AWQ ${q.awq.inverseScale.startsWith('scale folded') ? 'scale folded' : q.awq.inverseScale.startsWith('explicit Mul') ? 'Mul on input' : 'scale in weights'}`}</small> : null}
              </td>
              <ErrorCell row={q} />
              <td className="num">{q.ms.toFixed(1)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

export function RunLayers({ report }: { report: CompressReport }) {
  return (
    <>
      {report.reshaped && report.reshaped.length > 0 && <ShapeChanges rows={report.reshaped} />}
      {report.layers.length > 0 && <PruneLayers report={report} />}
      {report.quantized.length > 0 && <QuantLayers report={report} />}
    </>
  );
}

function PruneLayers({ report }: { report: CompressReport }) {
  return (
    <ScrollRegion label="Layers of the run">
      <table data-testid="run-layers" className="sticky">
        <thead>
          <tr>
            <th scope="col">Layer</th>
            <th scope="col">Role</th>
            <th scope="col">Pattern</th>
            <th scope="col" className="num">
              Target
            </th>
            <th scope="col" className="num">
              Achieved
            </th>
            <th scope="col" className="num">
              Rel. error <Explain about="the relative error" text={measureMeanings.relativeError.explain} />
            </th>
            <th scope="col" className="num">
              ms
            </th>
            <th scope="col">Ran on</th>
            <th scope="col">Pattern check</th>
          </tr>
        </thead>
        <tbody>
          {report.layers.map((l) => (
            <tr key={l.id} data-layer={l.id} data-achieved={l.achievedSparsity}>
              <th scope="row">{l.name}</th>
              <td>
                <span className={`role role-${l.role}`}>{l.role}</span>
              </td>
              <td>{l.pattern}</td>
              <td className="num" title={exact(l.targetSparsity)}>
                {percent(l.targetSparsity)}
              </td>
              <td className="num" title={exact(l.achievedSparsity)}>
                {percent(l.achievedSparsity)}
              </td>
              <ErrorCell row={l} />
              <td className="num">{l.ms.toFixed(1)}</td>
              <td>{describeBackendUse(l.backend)}</td>
              <td title={l.patternCheck.violations.join('\n') || l.patternCheck.rule}>{l.patternCheck.ok ? '✓ holds' : '✗ violated'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}
