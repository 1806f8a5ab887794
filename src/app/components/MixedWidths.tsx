// The widths a run gave each layer (mixed precision, or widths set by hand), grouped by block, each
// editable: an edit writes the recipe's bitsByLayer, which the next run keeps while it re-allocates
// the other layers under the target; "Reset to allocation" clears the edits.
import { useMemo } from 'react';
import { describeMixedReport } from '../../core/compress/mixedPrecision';
import { isQuantizeStageReport, type CompressReport } from '../../core/compress/report';
import { isQuantizeStage } from '../../core/recipe/stages/quantize';
import { MAX_WIDTH, MIN_WIDTH } from '../../core/recipe/stages/mixedPrecision';
import { averageWithEdits, sensitivityAt, widthGroups, withLayerWidth } from '../mixedWidths';
import { setQuantizeStage } from '../runController';
import { useLab } from '../store';
import { ScrollRegion } from './ScrollRegion';

const WIDTHS = Array.from({ length: MAX_WIDTH - MIN_WIDTH + 1 }, (_, i) => MIN_WIDTH + i);
const formatError = (e: number | undefined) => (e === undefined ? '–' : e.toExponential(2));

export function MixedWidths({ report }: { report: CompressReport }) {
  const stageReport = report.stages.find(isQuantizeStageReport);
  const recipeStage = useLab((s) => s.recipe.stages.find(isQuantizeStage));
  const bitsByLayer = recipeStage?.bitsByLayer;
  const groups = useMemo(() => widthGroups(stageReport?.quantized ?? [], bitsByLayer), [stageReport, bitsByLayer]);
  if (!stageReport || groups.length === 0) return null;
  const candidates = stageReport.mixed?.candidates ?? [];
  const edited = Object.keys(bitsByLayer ?? {}).length;
  const setWidth = (name: string, bits: number | undefined) => setQuantizeStage({ bitsByLayer: withLayerWidth(bitsByLayer, name, bits) });
  return (
    <section className="mixed-widths" data-testid="mixed-widths" aria-labelledby="mixed-widths-title">
      <h3 id="mixed-widths-title">Bit width per layer</h3>
      {stageReport.mixed && <p data-testid="mixed-summary">Mixed precision: {describeMixedReport(stageReport.mixed, stageReport.quantized)}.</p>}
      <p className="muted">
        Change a width to set it by hand: the next run keeps it{stageReport.mixed ? ' and re-allocates the other layers under the target' : ''}. With these widths: {averageWithEdits(groups).toFixed(3)} code bits per weight on average.{' '}
        {edited > 0 && (
          <button type="button" onClick={() => setQuantizeStage({ bitsByLayer: undefined })} data-testid="mixed-reset">
            Reset to allocation ({edited} set by hand)
          </button>
        )}
      </p>
      <ScrollRegion label="Bit width per layer">
        <table className="chart-table">
          <caption className="visually-hidden">Bit width of each quantized layer, grouped by block, and its measured sensitivity (output error on the calibration set) at each candidate width</caption>
          <thead>
            <tr>
              <th scope="col">layer</th>
              <th scope="col">width (bits)</th>
              {candidates.map((b) => (
                <th key={b} scope="col" className="num">
                  error at {b} bits
                </th>
              ))}
            </tr>
          </thead>
          {groups.map((group) => (
            <tbody key={group.label}>
              <tr>
                <th scope="rowgroup" colSpan={2 + candidates.length}>
                  {group.label}
                </th>
              </tr>
              {group.rows.map((row) => (
                <tr key={row.name}>
                  <th scope="row">{row.name}</th>
                  <td>
                    <select aria-label={`width of ${row.name} in bits`} value={row.edited ?? row.ran.bits} onChange={(e) => setWidth(row.name, Number(e.target.value))}>
                      {WIDTHS.map((b) => (
                        <option key={b} value={b}>
                          {b}
                        </option>
                      ))}
                    </select>{' '}
                    <span className="muted">{row.edited !== undefined ? `set by hand (ran at ${row.ran.bits})` : row.ran.from === 'set' ? 'set by hand' : row.ran.from === 'allocation' ? 'allocated' : ''}</span>
                  </td>
                  {candidates.map((b) => (
                    <td key={b} className="num">
                      {formatError(sensitivityAt(row, b))}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          ))}
        </table>
      </ScrollRegion>
    </section>
  );
}
