// Paths that a model's own files give for other files — model.json's `files.*`, a tensor's
// external_data "location" — must name a file inside the model's folder. They are checked as
// text, before anything is opened: an absolute path, a drive letter or a `..` that climbs out of
// the folder would let a downloaded model make the lab read (and quote) any file on the machine.
// onnx.checker refuses the same for external data (onnx/checker.cc, "data path ... should not be
// absolute" and "... escapes the model directory").
import { quoteName } from './display.ts';

/** Why `path` is not a relative path inside its folder, or undefined when it is one. */
export function folderPathProblem(path: string): string | undefined {
  if (path === '') return 'is empty';
  if (path.includes('\0')) return 'contains a NUL character';
  const slashed = path.replace(/\\/g, '/');
  if (slashed.startsWith('/')) return `${quoteName(path)} is an absolute path; give a path relative to the model's folder`;
  if (/^[A-Za-z]:/.test(slashed)) return `${quoteName(path)} starts with a drive letter; give a path relative to the model's folder`;
  let depth = 0;
  for (const part of slashed.split('/')) {
    if (part === '..') depth--;
    else if (part !== '' && part !== '.') depth++;
    if (depth < 0) return `${quoteName(path)} climbs out of the model's folder (..); only files inside it are read`;
  }
  if (depth === 0) return `${quoteName(path)} names the folder itself, not a file in it`;
  return undefined;
}
