// src/core must stay framework-free: it runs unchanged in Node, in workers and in the CLI. Test
// support lives in `testing/` folders (and `fixtures/`); it may use Node and test-only packages,
// but nothing the lab ships may import such a file.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const coreDir = import.meta.dirname;
const srcDir = dirname(coreDir);
const uiAndRuntime = /from\s+['"](react|react-dom|d3|d3-[a-z]+|zustand|onnxruntime-web|onnxruntime-node)(\/[^'"]*)?['"]/;
const nodeModules = /from\s+['"](node:[a-z_/]+|fs|path|os|url|util|child_process|worker_threads|module)['"]/;
const testOnlyPackages = /(from\s+|import\()\s*['"](vitest|webgpu|jsdom|playwright-core|tsx)(\/[^'"]*)?['"]/;
const domGlobals = /\b(document|window|localStorage|self\.postMessage|importScripts)\b\s*[.(]/;
const nodeGlobals = /(?<![.\w])(process|Buffer|require|__dirname|__filename|global)\b\s*[.([]/;

/** Source text without comments, so a comment may mention `process.env`. */
const code = (file: string) => readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');

function sourceFiles(dir: string, skip: (name: string) => boolean): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return skip(e.name) ? [] : sourceFiles(p, skip);
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [p] : [];
  });
}

const isSupport = (name: string) => name === 'fixtures' || name === 'testing';
const shipped = sourceFiles(coreDir, isSupport);
const support = sourceFiles(coreDir, (name) => name === 'fixtures').filter((f) => f.includes('/testing/'));
/** Support files that need Node or a test-only package: the lab must never load them. */
const nodeOnlySupport = support.filter((f) => [nodeModules, testOnlyPackages, nodeGlobals].some((rule) => rule.test(code(f))));

function importedFiles(file: string): string[] {
  return [...code(file).matchAll(/(?:from\s+|import\()\s*['"](\.[^'"]+)['"]/g)].map((m) => resolve(dirname(file), m[1]).replace(/\.tsx?$/, ''));
}

describe('src/core purity', () => {
  test('finds the core sources and their test support', () => {
    expect(shipped.length).toBeGreaterThan(5);
    expect(nodeOnlySupport.map((f) => relative(coreDir, f))).toContain('gpu/testing/nodeDevice.ts');
  });

  test.each(shipped.map((f) => [relative(coreDir, f), f]))('%s imports no DOM, React, d3, zustand, ORT, Node or test-only package', (_, file) => {
    const text = code(file);
    expect(text).not.toMatch(uiAndRuntime);
    expect(text).not.toMatch(nodeModules);
    expect(text).not.toMatch(testOnlyPackages);
    expect(text).not.toMatch(domGlobals);
    expect(text).not.toMatch(nodeGlobals);
  });

  test('no shipped module (core, workers, app, kernel check) imports Node-only test support', () => {
    const forbidden = new Set(nodeOnlySupport.map((f) => f.replace(/\.tsx?$/, '')));
    const root = dirname(srcDir);
    const lab = [...shipped, ...sourceFiles(join(srcDir, 'app'), isSupport), ...sourceFiles(join(srcDir, 'kernelCheck'), isSupport), ...sourceFiles(join(root, 'workers'), isSupport)];
    const offenders = lab.flatMap((file) => importedFiles(file).filter((target) => forbidden.has(target)).map((target) => `${relative(root, file)} → ${relative(root, target)}`));
    expect(offenders).toEqual([]);
  });

  test('the rules catch what they are for', () => {
    expect('const gpu = create([]); process.env.X = 1;').toMatch(nodeGlobals);
    expect("import { expect } from 'vitest';").toMatch(testOnlyPackages);
    expect("const { create } = await import('webgpu');").toMatch(testOnlyPackages);
    expect("import { readFileSync } from 'node:fs';").toMatch(nodeModules);
    expect('globalThis.crossOriginIsolated; this.process(x); run.process(x)').not.toMatch(nodeGlobals);
  });
});
