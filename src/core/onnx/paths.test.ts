// Paths a model's own files give (model.json files.*, external_data locations) stay inside the
// model's folder, and names quoted in messages stay one short line (issue 7).
import { describe, expect, test } from 'vitest';
import { folderPathProblem } from './paths.ts';
import { quoteName, shortName } from './display.ts';
import { ExternalDataError, externalDataRefs, resolveExternalData } from './external.ts';
import { DataType, type ModelProto } from './types.ts';

describe('folderPathProblem', () => {
  test.each(['model.onnx', './model.onnx', 'sub/w.data', 'a/../b.data', 'sub\\w.data', '.hidden', 'x..y'])('%s is inside', (path) => {
    expect(folderPathProblem(path)).toBeUndefined();
  });

  test.each([
    ['../outside/x', /climbs out of the model's folder/],
    ['sub/../../x', /climbs out/],
    ['..\\..\\x', /climbs out/],
    ['/etc/passwd', /is an absolute path/],
    ['\\\\server\\share\\x', /is an absolute path/],
    ['C:\\Windows\\win.ini', /starts with a drive letter/],
    ['c:x', /starts with a drive letter/],
    ['', /is empty/],
    ['.', /names the folder itself/],
    ['sub/..', /names the folder itself/],
    ['a\0b', /NUL/],
  ])('%j is refused', (path, message) => {
    expect(folderPathProblem(path)).toMatch(message);
  });
});

describe('names in messages', () => {
  test('a long name keeps its start and end and says how long it was', () => {
    const name = 'blocks.0.attn.q_proj.weight'.repeat(4000);
    const shown = shortName(name);
    expect(shown.length).toBeLessThan(120);
    expect(shown).toMatch(/^blocks\.0\.attn\.q_proj\.weight.*….*weight \(108,000 characters\)$/);
  });

  test('control characters are escaped, so a message stays one line', () => {
    expect(quoteName('a\nb"c')).toBe('"a\\u000ab\\"c"');
  });
});

describe('external_data locations', () => {
  const model = (location: string): ModelProto => ({
    irVersion: 8,
    graph: { initializer: [{ name: 'w', dims: [1], dataType: DataType.FLOAT, dataLocation: 1, externalData: [{ key: 'location', value: location }] }] },
  });

  test.each([
    ['../secret.bin', /Tensor "w": external_data "location" "\.\.\/secret\.bin" climbs out of the model's folder/],
    ['/etc/shadow', /Tensor "w": external_data "location" "\/etc\/shadow" is an absolute path/],
  ])('%s is refused before any file is looked up', (location, message) => {
    // The file is even supplied under that very name: it is still not read.
    const files = new Map([[location, new Uint8Array(4)], [location.split('/').pop()!, new Uint8Array(4)]]);
    expect(() => resolveExternalData(model(location), files)).toThrow(ExternalDataError);
    expect(() => resolveExternalData(model(location), files)).toThrow(message);
    expect(() => externalDataRefs(model(location))).toThrow(message);
  });
});
