// Object URLs of files the page offers for download. Each slot holds one URL; replacing or
// clearing a slot revokes the old URL, so a page that runs many experiments leaks none.
const urls = new Map<string, string>();

/** Offers `bytes` under `slot`, revoking what the slot held before; returns the new URL. */
export function offerDownload(slot: string, bytes: ArrayBuffer | Uint8Array): string {
  withdrawDownload(slot);
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
  urls.set(slot, url);
  return url;
}

export function downloadUrl(slot: string): string | undefined {
  return urls.get(slot);
}

export function withdrawDownload(slot: string): void {
  const url = urls.get(slot);
  if (url) URL.revokeObjectURL(url);
  urls.delete(slot);
}
