// UTF-8 for protobuf string fields. onnx.proto strings are UTF-8, but a file may hold any bytes
// there, and opening and saving a model must not change bytes the user never touched. So the
// decoder for fields is lossless: a byte that is not part of a well-formed UTF-8 sequence
// becomes the lone surrogate U+DC80 + byte (Python's "surrogateescape", PEP 383), which the
// encoder writes back as that byte. Well-formed UTF-8 never decodes to a lone surrogate, so the
// two cannot be confused; a lone surrogate the lab itself puts in a string is written as U+FFFD
// (as TextEncoder does), except U+DC80–U+DCFF, which stand for raw bytes.

const utf8Encoder = new TextEncoder();

/** First and last code unit that stand for one raw byte (0x80–0xFF). */
const ESCAPE_FIRST = 0xdc80;
const ESCAPE_LAST = 0xdcff;
const HAS_ESCAPE = /[\udc80-\udcff]/;

/** Writes `text` into `dest` (sized with utf8Length) and returns the bytes written. */
export function encodeUtf8Into(text: string, dest: Uint8Array): number {
  if (!HAS_ESCAPE.test(text)) return utf8Encoder.encodeInto(text, dest).written;
  let p = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      p += utf8Encoder.encodeInto(text.slice(i, i + 2), dest.subarray(p)).written;
      i++;
    } else if (c >= ESCAPE_FIRST && c <= ESCAPE_LAST) {
      dest[p++] = c - 0xdc00;
    } else {
      p += utf8Encoder.encodeInto(text[i], dest.subarray(p)).written; // a lone surrogate gives U+FFFD
    }
  }
  return p;
}

/** UTF-8 byte length of a JS string: lone surrogates count as U+FFFD, escaped bytes as one byte. */
export function utf8Length(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      n += 1;
      continue;
    }
    // A pair's low half is skipped below, so a low surrogate seen here is lone.
    if (c >= ESCAPE_FIRST && c <= ESCAPE_LAST) continue;
    // 3 bytes for one UTF-16 unit (lone surrogates become U+FFFD), 4 for a surrogate pair.
    n += 2;
    const next = text.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
  }
  return n;
}

// ignoreBOM keeps a leading U+FEFF in the string instead of silently dropping it.
const utf8Decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 for display (invalid sequences become U+FFFD); short ASCII strings skip TextDecoder. */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  const ascii = asciiString(bytes, start, end);
  return ascii ?? utf8Decoder.decode(bytes.subarray(start, end));
}

/** Decodes a string field so that encodeUtf8Into gives back exactly these bytes (see above). */
export function decodeUtf8Lossless(bytes: Uint8Array, start: number, end: number): string {
  const ascii = asciiString(bytes, start, end);
  if (ascii !== undefined) return ascii;
  try {
    return strictDecoder.decode(bytes.subarray(start, end));
  } catch {
    return escapedDecode(bytes, start, end);
  }
}

/**
 * Short ASCII strings without TextDecoder. One fromCharCode call makes a flat string; building it
 * with += would make a rope that every Map lookup by tensor name flattens again (a third of the
 * analysis time on a 10⁶-node graph went there).
 */
function asciiString(bytes: Uint8Array, start: number, end: number): string | undefined {
  if (end - start > 64) return undefined;
  for (let i = start; i < end; i++) if (bytes[i] >= 0x80) return undefined;
  return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
}

/** Length of the well-formed UTF-8 sequence at `i` (Unicode 15, table 3-7), or 0. */
function sequenceLength(bytes: Uint8Array, i: number, end: number): number {
  const b = bytes[i];
  const inRange = (k: number, lo: number, hi: number) => i + k < end && bytes[i + k] >= lo && bytes[i + k] <= hi;
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) return inRange(1, 0x80, 0xbf) ? 2 : 0;
  if (b >= 0xe0 && b <= 0xef) {
    const [lo, hi] = b === 0xe0 ? [0xa0, 0xbf] : b === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return inRange(1, lo, hi) && inRange(2, 0x80, 0xbf) ? 3 : 0;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    const [lo, hi] = b === 0xf0 ? [0x90, 0xbf] : b === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return inRange(1, lo, hi) && inRange(2, 0x80, 0xbf) && inRange(3, 0x80, 0xbf) ? 4 : 0;
  }
  return 0;
}

/** Decodes well-formed sequences and escapes every other byte as U+DC80 + byte. */
function escapedDecode(bytes: Uint8Array, start: number, end: number): string {
  let text = '';
  let runStart = start;
  const flush = (to: number) => {
    if (to > runStart) text += strictDecoder.decode(bytes.subarray(runStart, to));
  };
  for (let i = start; i < end; ) {
    const length = sequenceLength(bytes, i, end);
    if (length > 0) {
      i += length;
      continue;
    }
    flush(i);
    text += String.fromCharCode(0xdc00 + bytes[i]);
    runStart = ++i;
  }
  flush(end);
  return text;
}
