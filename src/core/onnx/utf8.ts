// UTF-8 for protobuf string fields. onnx.proto strings are UTF-8; decoding is lenient (invalid
// sequences become U+FFFD) because a bad doc_string should not make a model unreadable.

const utf8Encoder = new TextEncoder();

/** Writes `text` into `dest` (sized with utf8Length) and returns the bytes written. */
export function encodeUtf8Into(text: string, dest: Uint8Array): number {
  return utf8Encoder.encodeInto(text, dest).written;
}

/** UTF-8 byte length of a JS string, counting lone surrogates as U+FFFD (as TextEncoder does). */
export function utf8Length(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      n += 1;
      continue;
    }
    // 3 bytes for one UTF-16 unit (lone surrogates become U+FFFD), 4 for a surrogate pair.
    n += 2;
    const next = text.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
  }
  return n;
}

// ignoreBOM keeps a leading U+FEFF in the string instead of silently dropping it.
const utf8Decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** Decodes UTF-8 (invalid sequences become U+FFFD); short ASCII strings skip TextDecoder. */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= 64) {
    let s = '';
    for (let i = start; i < end; i++) {
      const c = bytes[i];
      if (c >= 0x80) return utf8Decoder.decode(bytes.subarray(start, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8Decoder.decode(bytes.subarray(start, end));
}
