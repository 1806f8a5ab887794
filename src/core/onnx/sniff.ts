// Recognises files that are obviously not ONNX before the protobuf parser sees them, so the
// user reads "this is a PyTorch checkpoint" rather than "invalid wire type 3 at byte 2".
// ONNX writers emit fields in number order, so a real model starts with 0x08 (ir_version);
// none of the signatures below can start a model produced that way.

export interface SniffResult {
  /** Short name of what the file looks like, e.g. 'zip', 'safetensors'. */
  format: string;
  /** The full explanation for the user, starting with "Not an ONNX model:". */
  message: string;
}

const ascii = (bytes: Uint8Array, start: number, end: number): string =>
  String.fromCharCode(...bytes.subarray(start, Math.min(end, bytes.length)));

function startsWith(bytes: Uint8Array, signature: readonly number[], at = 0): boolean {
  if (bytes.length < at + signature.length) return false;
  return signature.every((b, i) => bytes[at + i] === b);
}

function notOnnx(format: string, what: string): SniffResult {
  return { format, message: `Not an ONNX model: ${what}` };
}

/** The first entry's name in a ZIP local file header (PKWARE APPNOTE 4.3.7), if readable. */
function firstZipEntryName(bytes: Uint8Array): string | undefined {
  if (bytes.length < 30) return undefined;
  const nameLength = bytes[26] | (bytes[27] << 8);
  if (nameLength === 0 || 30 + nameLength > bytes.length) return undefined;
  return ascii(bytes, 30, 30 + Math.min(nameLength, 200));
}

function describeZip(bytes: Uint8Array): SniffResult {
  const entry = firstZipEntryName(bytes);
  const seen = entry === undefined ? '' : ` (first entry "${entry}")`;
  let what = 'PyTorch .pt/.pth files, NumPy .npz and Keras .keras files are ZIP archives';
  if (entry !== undefined) {
    if (/(^|\/)(data\.pkl|version|byteorder|\.data\/)/.test(entry) || entry.startsWith('archive/')) {
      what = 'it looks like a PyTorch checkpoint (.pt/.pth files are ZIP archives)';
    } else if (entry.endsWith('.npy')) {
      what = 'it looks like a NumPy .npz archive of arrays';
    } else if (/^(metadata|config)\.json$|\.weights\.h5$/.test(entry)) {
      what = 'it looks like a Keras .keras archive';
    }
  }
  return notOnnx(
    'zip',
    `this is a ZIP archive${seen}; ${what}. Export the model to ONNX first, e.g. with torch.onnx.export (PyTorch) or tf2onnx (Keras/TensorFlow).`,
  );
}

/** safetensors: u64 little-endian JSON header length, then the JSON header starting with '{'. */
function isSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10 || bytes[8] !== 0x7b) return false;
  const lo = (bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24)) >>> 0;
  const hi = (bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (bytes[7] << 24)) >>> 0;
  return hi === 0 && lo >= 2 && lo <= bytes.length - 8;
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** The head of the file as text, if it is UTF-8 without control characters (other than whitespace). */
function textHead(bytes: Uint8Array): string | undefined {
  const head = bytes.subarray(0, 4096);
  for (const b of head) {
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c) || b === 0x7f) return undefined;
  }
  // The 4096-byte cut may split a multi-byte character: allow dropping up to 3 trailing bytes.
  const maxTrim = head.length < bytes.length ? 3 : 0;
  for (let trim = 0; trim <= maxTrim; trim++) {
    try {
      return textDecoder.decode(head.subarray(0, head.length - trim));
    } catch {
      // invalid UTF-8 at this cut; try a shorter one
    }
  }
  return undefined;
}

function describeText(text: string): SniffResult {
  const start = text.trimStart();
  if (start.startsWith('version https://git-lfs')) {
    return notOnnx('git-lfs-pointer', 'this is a Git LFS pointer file, not the model itself; fetch the real file with `git lfs pull` (or download it directly).');
  }
  if (/^<(!doctype html|html|head|body)/i.test(start)) {
    return notOnnx('html', 'this is an HTML web page; the download link probably returned a login or error page instead of the .onnx file.');
  }
  if (start.startsWith('{') || start.startsWith('[')) {
    return notOnnx('json', 'this is a JSON text file (e.g. a config.json or tokenizer.json); choose the .onnx model file instead.');
  }
  return notOnnx('text', 'this is a text file; an ONNX model is a binary protobuf file (.onnx).');
}

/** Returns what the file looks like when it is recognisably not ONNX, else null. */
export function sniffNonOnnx(bytes: Uint8Array): SniffResult | null {
  if (bytes.length === 0) return notOnnx('empty', 'the file is empty (0 bytes).');
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06])) return describeZip(bytes);
  if (startsWith(bytes, [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])) {
    return notOnnx('hdf5', 'this is an HDF5 file (Keras .h5/.hdf5 weights); convert the model to ONNX with tf2onnx.');
  }
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return notOnnx('png', 'this is a PNG image.');
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return notOnnx('jpeg', 'this is a JPEG image.');
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return notOnnx('gif', 'this is a GIF image.');
  if (startsWith(bytes, [0x1f, 0x8b])) {
    return notOnnx('gzip', 'this is a gzip-compressed file (e.g. a .tar.gz model download); decompress it and choose the .onnx file inside.');
  }
  if (ascii(bytes, 4, 8) === 'TFL3') {
    return notOnnx('tflite', 'this is a TensorFlow Lite model (.tflite flatbuffer); convert it to ONNX with tf2onnx (python -m tf2onnx.convert --tflite ...).');
  }
  if (ascii(bytes, 4, 8) === 'ORTM') {
    return notOnnx('ort', 'this is an ONNX Runtime .ort (flatbuffer) model; load the original .onnx protobuf instead.');
  }
  if (isSafetensors(bytes)) {
    return notOnnx('safetensors', 'this is a safetensors file (weights only, no graph); export the model to ONNX, e.g. with `optimum-cli export onnx`.');
  }
  if (startsWith(bytes, [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])) return notOnnx('npy', 'this is a NumPy .npy array file.');
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) {
    return notOnnx('pickle', 'this looks like a Python pickle (legacy torch.save format); export the model to ONNX with torch.onnx.export.');
  }
  const text = textHead(bytes);
  return text === undefined ? null : describeText(text);
}
