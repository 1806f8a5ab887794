import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { LAB_VERSION } from './version';

test('LAB_VERSION is package.json’s version', () => {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../../package.json'), 'utf8')) as { version: string };
  expect(LAB_VERSION).toBe(pkg.version);
});
