// SHA-256 by WebCrypto (`crypto.subtle.digest`), the same in Node ≥ 20, workers and the browser.
// Browsers provide crypto.subtle only in a secure context (https or localhost), as they do WebGPU.
// Used to fingerprint pruned weights so that the CLI and the browser can be compared run for run.

/** Lower-case hex SHA-256 of `bytes` (only the view's bytes). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) throw new Error('SHA-256 needs WebCrypto (crypto.subtle), which browsers provide only in a secure context (https or localhost)');
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** SHA-256 of the chunks one after another: the digest of their concatenation. */
export function sha256HexOfChunks(chunks: readonly Uint8Array[]): Promise<string> {
  const joined = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return sha256Hex(joined);
}
