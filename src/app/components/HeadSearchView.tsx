// The attention stage's head search in a run's Overview: the outcome in words, the forest plot of
// every candidate head (or its table), and the greedy drop steps. Calibration-set numbers only.
import { useMemo } from 'react';
import type { AttentionStageReport } from '../../core/compress/attentionStage';
import { headChartRows, headSearchChart, headSearchChartHeight, headStatusText, intervalText, signedNll } from '../charts/headSearchChart';
import '../charts/charts.css';
import { actMeanings, docLink } from '../glossary';
import { dropSteps, headSearchSummary } from '../headSearchSummary';
import { ChartOrTable } from './ChartOrTable';
import { D3Chart } from './D3Chart';
import { Explain } from './Explain';
import { ScrollRegion } from './ScrollRegion';

export function HeadSearchView({ report }: { report: AttentionStageReport }) {
  const steps = dropSteps(report);
  return (
    <section className="head-search" aria-labelledby="head-search-title" data-testid="head-search">
      <h3 id="head-search-title">
        Attention calibration (ACT): head search <Explain about="the head search" text={actMeanings.heads} href={docLink('attention')} />
      </h3>
      <p data-testid="head-search-summary">{headSearchSummary(report)}</p>
      {report.heads === 'search' && (
        <>
          <p className="muted">
            Calibration-set numbers: each head’s change in mean NLL with ACT on that head alone, on the {report.samples} calibration samples the search scored ({report.evaluations} sets in all, {report.guard === 'interval' ? 'noise guard: 95 % interval below 0' : 'no noise guard: the reference’s strict rule'}). Judge the result on the evaluation set above.
          </p>
          <HeadSearchChart report={report} />
          {steps.length > 0 && (
            <ol className="drop-steps" data-testid="head-search-steps" aria-label="Greedy drop steps">
              {steps.map((s) => (
                <li key={s}>{s}</li>
              ))}
            </ol>
          )}
        </>
      )}
    </section>
  );
}

function HeadSearchChart({ report }: { report: AttentionStageReport }) {
  const rows = useMemo(() => headChartRows(report), [report]);
  return (
    <ChartOrTable
      className="head-search-chart"
      testId="head-search-chart"
      chart={(width) => <D3Chart render={(doc) => headSearchChart(report, { width, height: headSearchChartHeight(report) }, doc)} deps={[report, width]} />}
      table={() => (
        <ScrollRegion label="Head search per candidate head" className="chart-table-scroll">
          <table className="chart-table" data-testid="head-search-table">
            <caption>Each candidate head alone, on {report.samples} calibration samples (baseline NLL {report.baseline?.toFixed(4)})</caption>
            <thead>
              <tr>
                <th scope="col">layer</th>
                <th scope="col">head</th>
                <th scope="col">NLL alone</th>
                <th scope="col">change</th>
                <th scope="col">95 % interval</th>
                <th scope="col">result</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) =>
                r.kind === 'skipped' ? (
                  <tr key={`skip-${r.layer}`} data-layer={r.layer}>
                    <td>{r.layer}</td>
                    <td colSpan={5}>skipped: not searched</td>
                  </tr>
                ) : (
                  <tr key={`${r.layer}.${r.row.head}`} data-layer={r.layer} data-head={r.row.head} data-status={r.status}>
                    <td>{r.layer}</td>
                    <td>{r.row.head}</td>
                    <td>{r.row.score.toFixed(4)}</td>
                    <td>{signedNll(r.row.delta)}</td>
                    <td>{intervalText(r.row.interval)}</td>
                    <td>{headStatusText(r.row, r.status)}</td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
        </ScrollRegion>
      )}
    />
  );
}
