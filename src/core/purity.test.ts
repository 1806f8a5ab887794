// src/core must stay framework-free: it runs unchanged in Node, in workers and in the CLI.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

const coreDir = import.meta.dirname;
const forbiddenImports = /from\s+['"](react|react-dom|d3|d3-[a-z]+|zustand|onnxruntime-web|onnxruntime-node|node:[a-z_/]+|fs|path|child_process)(\/[^'"]*)?['"]/;
const forbiddenGlobals = /\b(document|window|localStorage|self\.postMessage|importScripts)\b\s*[.(]/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : sourceFiles(p);
    return /\.ts$/.test(e.name) && !/\.test\.ts$/.test(e.name) ? [p] : [];
  });
}

describe('src/core purity', () => {
  const files = sourceFiles(coreDir);
  test('finds the core sources', () => expect(files.length).toBeGreaterThan(5));
  test.each(files.map((f) => [f.slice(coreDir.length + 1), f]))('%s imports no DOM, React, d3, zustand, ORT or Node APIs', (_, file) => {
    const text = readFileSync(file, 'utf8');
    expect(text).not.toMatch(forbiddenImports);
    expect(text).not.toMatch(forbiddenGlobals);
  });
});
