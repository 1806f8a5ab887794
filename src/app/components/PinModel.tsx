// Pinning a compressed model: not stored by default (a record reproduces it), kept on request in
// the browser's storage. A held run offers "Pin model"; a run read back from the history whose
// model was pinned offers that file's download instead of "no longer held".
import { useEffect, useState } from 'react';
import { offerDownload } from '../../services/downloads';
import { pinnedBytes, pinRun, unpinRun } from '../history';
import { shortBytes } from '../format';
import type { RunRecord } from '../store';

/** The slot of a pinned model's object URL (services/downloads revokes the one it replaces). */
const pinnedSlot = (id: string) => `pinned-${id}`;

/** For a held run, whose file is at `url`: pin it, or unpin it; the message says what happened and the storage used. */
export function PinModel({ run, url }: { run: RunRecord; url: string }) {
  const [pinned, setPinned] = useState<boolean>();
  const [message, setMessage] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    let live = true;
    void pinnedBytes(run.id).then((bytes) => live && setPinned(bytes !== undefined));
    return () => void (live = false);
  }, [run.id]);

  async function pin() {
    setBusy(true);
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const text = await pinRun(run.id, bytes);
    setMessage(text);
    setPinned(text.startsWith('Pinned'));
    setBusy(false);
  }
  async function unpin() {
    await unpinRun(run.id);
    setPinned(false);
    setMessage('Unpinned: the model is no longer kept; its record is.');
  }

  return (
    <span className="pin-model">
      {' '}
      {pinned ? (
        <button type="button" className="link" onClick={unpin}>
          Unpin model
        </button>
      ) : (
        <button type="button" className="link" onClick={pin} disabled={busy || pinned === undefined} title="Keep the compressed file in this browser, so it can be downloaded after a reload">
          {busy ? 'Pinning…' : 'Pin model'}
        </button>
      )}
      <span className="muted-inline" role="status" data-testid="pin-message">
        {message && ` ${message}`}
      </span>
    </span>
  );
}

/** For a run the worker no longer holds: the pinned file's download, if it was pinned. */
export function PinnedModel({ run, fileName }: { run: RunRecord; fileName: string }) {
  const [pinned, setPinned] = useState<{ url: string; bytes: number } | null>();
  useEffect(() => {
    let live = true;
    void pinnedBytes(run.id).then((bytes) => {
      if (live) setPinned(bytes ? { url: offerDownload(pinnedSlot(run.id), bytes), bytes: bytes.byteLength } : null);
    });
    return () => void (live = false);
  }, [run.id]);
  if (!pinned) return <span className="muted">no longer held{pinned === null ? ' (not pinned: rerun its recipe to get the file)' : ''}</span>;
  return (
    <a href={pinned.url} download={fileName} data-testid="download-pinned" title={`${pinned.bytes} bytes, kept in this browser`}>
      Download {fileName} (pinned, {shortBytes(pinned.bytes)})
    </a>
  );
}
