import { useState, type ReactNode } from 'react';
import { useElementWidth } from './useElementWidth';

/** Below this a chart is drawn at this width and scaled down by its viewBox. */
const MIN_CHART_WIDTH = 360;

/**
 * Charts that follow their container's width, with a "Show as table" switch to their data-table
 * alternative. `chart` gets the width to draw at once the container has been measured.
 */
export function ChartOrTable({ className, testId, chart, table }: { className: string; testId: string; chart: (width: number) => ReactNode; table: () => ReactNode }) {
  const [host, width] = useElementWidth<HTMLDivElement>();
  const [asTable, setAsTable] = useState(false);
  return (
    <div className={className} ref={host} data-testid={testId}>
      <label className="field check chart-toggle">
        <input type="checkbox" checked={asTable} onChange={(e) => setAsTable(e.target.checked)} />
        Show as table
      </label>
      {asTable ? table() : width !== undefined && chart(Math.max(MIN_CHART_WIDTH, width))}
    </div>
  );
}
