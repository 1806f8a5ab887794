// The history view's controls above the table: filters (model, method, stage kind) and the actions
// on the checked runs — delete, compare, export — and import of an experiments file.
import { useState, type ChangeEvent, type MouseEvent } from 'react';
import { offerDownload } from '../../services/downloads';
import { deleteRuns, exportRuns, importRuns } from '../history';
import { filterChoices, methodLabel, type RunFilter } from '../runTable';
import type { RunRecord } from '../store';

export const EXPORT_FILE_NAME = 'compression-lab-runs.json';

function FilterSelect({ label, value, choices, describe = (c) => c, onChange }: { label: string; value: string; choices: string[]; describe?: (choice: string) => string; onChange: (value: string) => void }) {
  return (
    <label className="filter">
      {label}{' '}
      {/* Named "Filter by …": the recipe builder's own "Method" field keeps its name to itself. */}
      <select aria-label={`Filter by ${label.toLowerCase()}`} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">all</option>
        {choices.map((c) => (
          <option key={c} value={c}>
            {describe(c)}
          </option>
        ))}
      </select>
    </label>
  );
}

export function RunFilters({ runs, filter, shown, onChange }: { runs: readonly RunRecord[]; filter: RunFilter; shown: number; onChange: (filter: RunFilter) => void }) {
  const choices = filterChoices(runs);
  const filtered = filter.model || filter.method || filter.stage;
  return (
    <div className="history-filters" role="group" aria-label="Filter runs">
      <FilterSelect label="Model" value={filter.model} choices={choices.models} onChange={(model) => onChange({ ...filter, model })} />
      <FilterSelect label="Method" value={filter.method} choices={choices.methods} describe={methodLabel} onChange={(method) => onChange({ ...filter, method })} />
      <FilterSelect label="Stage" value={filter.stage} choices={choices.stages} onChange={(stage) => onChange({ ...filter, stage })} />
      {filtered && (
        <span className="muted-inline" data-testid="filter-count">
          {shown} of {runs.length} shown
        </span>
      )}
    </div>
  );
}

type Notice = { ok: boolean; text: string };

export function HistoryActions({ runs, shown, selected, onDeleted, onCompare }: { runs: readonly RunRecord[]; shown: readonly RunRecord[]; selected: readonly RunRecord[]; onDeleted: () => void; onCompare: () => void }) {
  const [notice, setNotice] = useState<Notice>();
  const deletable = selected.filter((r) => r.status !== 'running');
  // Export what is checked, else what the filters show: the label says which.
  const exported = selected.length > 0 ? selected : shown;

  async function onDelete() {
    const kept = selected.length - deletable.length;
    if (!window.confirm(`Delete ${deletable.length} run(s) from this browser, with any pinned models? This cannot be undone.${kept ? ` ${kept} running run(s) are kept.` : ''}`)) return;
    await deleteRuns(deletable.map((r) => r.id));
    onDeleted();
    setNotice({ ok: true, text: `${deletable.length} run(s) deleted${kept ? `; ${kept} still running, not deleted` : ''}.` });
  }

  function onExport(e: MouseEvent<HTMLAnchorElement>) {
    // Built at the click, not every render: a record holds its whole report.
    e.currentTarget.href = offerDownload('history-export', new TextEncoder().encode(exportRuns(exported)));
  }

  async function onImport(e: ChangeEvent<HTMLInputElement>) {
    const input = e.currentTarget;
    const file = input.files?.[0];
    if (!file) return;
    try {
      const result = await importRuns(await file.text());
      setNotice({ ok: result.ok, text: `${file.name}: ${result.message}` });
    } catch (error) {
      setNotice({ ok: false, text: `${file.name}: not imported: ${(error as Error).message}. Nothing stored was changed.` });
    }
    input.value = '';
  }

  return (
    <>
      <div className="history-actions">
        <button type="button" disabled={deletable.length === 0} onClick={onDelete}>
          Delete selected{selected.length > 0 ? ` (${deletable.length})` : ''}
        </button>
        <button type="button" disabled={selected.length !== 2} onClick={onCompare} title={selected.length === 2 ? undefined : 'Check exactly two runs to compare them'}>
          Compare
        </button>
        {exported.length > 0 && (
          <a href="#export" download={EXPORT_FILE_NAME} onClick={onExport} data-testid="export-runs" className="button-link">
            Export JSON ({selected.length > 0 ? `${exported.length} selected` : `${exported.length} shown`})
          </a>
        )}
        <label className="file-button">
          Import JSON
          <input type="file" accept=".json,application/json" className="visually-hidden" onChange={onImport} data-testid="import-runs" />
        </label>
        {runs.length > 0 && selected.length === 0 && <span className="muted-inline">Check runs to delete, export or compare them.</span>}
      </div>
      {/* Both regions exist before anything is said, so screen readers announce what lands in them. */}
      <p className="history-notice" role="status" data-testid="history-status">
        {notice?.ok ? notice.text : ''}
      </p>
      <p className="history-notice refused" role="alert" data-testid="history-alert">
        {notice && !notice.ok ? notice.text : ''}
      </p>
    </>
  );
}
