// Reading the files a CLI command names: only regular files (never /dev/zero, a FIFO or a
// folder), of a bounded size, and with messages that name the file and what was expected —
// never quoting its contents (a JSON.parse error would show the first bytes of any file a
// hostile model.json pointed at).
import { readFileSync, statSync } from 'node:fs';
import { shortName } from '../core/onnx/display.ts';

/** protobuf's own limit on one message; larger models keep weights in external data. */
export const MAX_MODEL_BYTES = 2 ** 31 - 1;
/** JSON files (cards, datasets, recipes) larger than this are refused, not read. */
export const MAX_JSON_BYTES = 256 * 2 ** 20;

/** A path as shown in a message: one line, a readable length. */
export const showPath = (path: string) => shortName(path, 160);

export function readRegularFile(path: string, what: string, maxBytes: number): Uint8Array {
  let stat;
  try {
    stat = statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    throw new Error(`${showPath(path)}: cannot read ${what} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (stat === undefined) throw new Error(`${showPath(path)}: no such file (expected ${what})`);
  if (!stat.isFile()) {
    const kind = stat.isDirectory() ? 'a folder' : stat.isCharacterDevice() || stat.isBlockDevice() ? 'a device' : stat.isFIFO() ? 'a pipe' : 'a socket or other special file';
    throw new Error(`${showPath(path)}: is ${kind}, not a regular file (expected ${what}); refused`);
  }
  if (stat.size > maxBytes) {
    throw new Error(`${showPath(path)}: ${stat.size.toLocaleString('en-US')} bytes, more than the ${maxBytes.toLocaleString('en-US')} allowed for ${what}; refused`);
  }
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new Error(`${showPath(path)}: cannot read ${what} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Deepest JSON nesting accepted: the lab's files nest a few levels; code that walks parsed JSON recursively must not overflow the stack. */
export const MAX_JSON_DEPTH = 100;

/** Offset of the first bracket nested deeper than `max`, skipping string contents, or -1. */
function tooDeepAt(text: string, max: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return -1;
}

/** Line and column (1-based) of a character offset. */
function lineColumn(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

/** Where JSON.parse stopped: V8 says "at position N" for most errors, or it is the first character. */
function parseFailureOffset(text: string, message: string): number | undefined {
  const position = /position (\d+)/.exec(message);
  if (position) return Number(position[1]);
  if (/end of JSON input/.test(message)) return text.length;
  const first = text.search(/\S/);
  if (first >= 0 && !/[[{"\-0-9tfn]/.test(text[first])) return first;
  return undefined;
}

/** Parses a JSON file; a file that is not UTF-8 JSON is refused by name and position only. */
export function readJsonFile(path: string, what: string): unknown {
  const bytes = readRegularFile(path, what, MAX_JSON_BYTES);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`${showPath(path)}: not a UTF-8 text file (expected ${what} in JSON)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const offset = parseFailureOffset(text, (error as Error).message);
    const where = offset === undefined ? '' : ` at ${lineColumn(text, offset)}`;
    throw new Error(`${showPath(path)}: not valid JSON${where} (expected ${what})`);
  }
  const deep = tooDeepAt(text, MAX_JSON_DEPTH);
  if (deep >= 0) throw new Error(`${showPath(path)}: JSON nested deeper than ${MAX_JSON_DEPTH} levels at ${lineColumn(text, deep)} (expected ${what}); refused`);
  return json;
}
