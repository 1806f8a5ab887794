// Share: the selected finished run as a link (recipe, model, the tab, layer and head shown, its numbers), in a
// read-only field with Copy and its length. The link is a fragment: nothing reaches a server.
import { useId, useState } from 'react';
import { shareUrl } from '../../core/experiments';
import { pageAddress, sharePayloadOf } from '../share';
import { useLab, type RunRecord } from '../store';

export function ShareLink({ run }: { run: RunRecord }) {
  const detailTab = useLab((s) => s.detailTab);
  const viewLayer = useLab((s) => s.viewLayer);
  const viewHead = useLab((s) => s.viewHead);
  const [link, setLink] = useState<{ runId: string; url: string } | { runId: string; error: string }>();
  const [copied, setCopied] = useState('');
  const fieldId = useId();
  const make = () => {
    const made = sharePayloadOf(run, { tab: detailTab, ...(viewLayer ? { layer: viewLayer } : {}), ...(viewHead ? { head: viewHead } : {}) });
    setCopied('');
    setLink(made.ok ? { runId: run.id, url: shareUrl(pageAddress(location), made.payload) } : { runId: run.id, error: `Cannot share: ${made.reason}.` });
  };
  const copy = async (url: string) => {
    try {
      await navigator.clipboard.writeText(url);
      setCopied('Copied.');
    } catch {
      setCopied('The browser refused the clipboard: select the link and copy it by hand.');
    }
  };
  const shown = link?.runId === run.id ? link : undefined;
  return (
    <div className="share-link" data-testid="share-link">
      <button type="button" onClick={make} data-testid="share-run">
        Share run {run.number}
      </button>
      {shown && 'error' in shown && <p className="error">{shown.error}</p>}
      {shown && 'url' in shown && (
        <div className="share-field">
          <label htmlFor={fieldId}>Link to run {run.number} ({shown.url.length.toLocaleString('en-US')} characters)</label>
          <input id={fieldId} type="text" readOnly value={shown.url} data-testid="share-url" data-length={shown.url.length} onFocus={(e) => e.target.select()} />
          <button type="button" onClick={() => void copy(shown.url)}>
            Copy
          </button>
          <span role="status" className="muted">
            {copied}
          </span>
        </div>
      )}
    </div>
  );
}
