import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'fflate';
import { describe, expect, test } from 'vitest';
import { mulberry32 } from '../calibrate/random';
import { parseRecipeText } from '../recipe';
import { decodeShareToken, encodeShareToken, MAX_PAYLOAD_BYTES, shareTokenOf, shareUrl, SHARE_LINK_VERSION, type SharePayload } from './shareLink';

const recipesDir = join(import.meta.dirname, '../../../recipes');
const exampleRecipes = readdirSync(recipesDir)
  .filter((f) => f.endsWith('.json'))
  .map((file) => ({ file, recipe: parseRecipeText(readFileSync(join(recipesDir, file), 'utf8')) }));

function payload(overrides: Partial<SharePayload> = {}): SharePayload {
  return {
    v: SHARE_LINK_VERSION,
    model: { kind: 'bundled', id: 'kjv-charlm' },
    recipe: exampleRecipes.find((r) => r.file === 'wanda-50.json')?.recipe ?? exampleRecipes[0].recipe,
    view: { tab: 'Overview', layer: 'blocks.0.attn.q_proj', head: { block: 2, head: 1 } },
    result: { metric: 'perplexity', dense: 3.4934, value: 3.8141, interval: { low: 0.29, high: 0.35 }, sizeBytes: 3_301_234, denseSizeBytes: 3_301_234, weightsSha256: 'ab'.repeat(32), compute: 'cpu', labVersion: '0.1.0' },
    ...overrides,
  };
}

/** The token of arbitrary JSON text, bypassing the typed encoder (what a hand-made link holds). */
const tokenOfText = (text: string) => {
  const bytes = deflateSync(new TextEncoder().encode(text));
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return `1.${btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
};

describe('share links', () => {
  test('a payload survives the round trip, and the link is a fragment', () => {
    const p = payload();
    const url = shareUrl('https://lab.example/compress/?backend=wasm#old', p);
    expect(url.startsWith('https://lab.example/compress/?backend=wasm#share=1.')).toBe(true);
    const decoded = decodeShareToken(shareTokenOf(url)!);
    expect(decoded).toEqual({ ok: true, payload: p });
  });

  test('every example recipe encodes to a link short enough to paste in chat', () => {
    const lengths = exampleRecipes.map(({ file, recipe }) => {
      const url = shareUrl('http://localhost:5173/', payload({ recipe }));
      const decoded = decodeShareToken(shareTokenOf(url)!);
      expect(decoded.ok && decoded.payload.recipe).toEqual(recipe);
      return { file, chars: url.length };
    });
    console.log(`[share] link lengths with a result summary: ${lengths.map((l) => `${l.file} ${l.chars}`).join(', ')}`);
    for (const { chars } of lengths) expect(chars).toBeLessThan(1200);
  });

  test('a file model carries its name and hash; a bad hash is refused with its path', () => {
    const ok = payload({ model: { kind: 'file', name: 'my model.onnx', sha256: 'cd'.repeat(32) } });
    expect(decodeShareToken(encodeShareToken(ok))).toEqual({ ok: true, payload: ok });
    const bad = decodeShareToken(encodeShareToken(payload({ model: { kind: 'file', name: 'x.onnx', sha256: 'nothex' } })));
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.message).toMatch(/model\.sha256: must be 64 lower-case hex digits/);
  });

  test('clear messages: not a link, another version, cut short, damaged, a bomb, an unknown field, a bad recipe', () => {
    const token = encodeShareToken(payload());
    const message = (t: string) => {
      const d = decodeShareToken(t);
      expect(d.ok).toBe(false);
      return d.ok ? '' : d.message;
    };
    expect(message('hello')).toMatch(/not a Compression Lab share link/);
    expect(message(`7.${token.slice(2)}`)).toMatch(/format version 7; this lab reads version 1/);
    expect(message(token.slice(0, token.length - 20))).toMatch(/cut short|damaged/);
    expect(message(`${token.slice(0, 10)}!${token.slice(11)}`)).toMatch(/characters a share link never has/);
    expect(message(tokenOfText(' '.repeat(MAX_PAYLOAD_BYTES + 1)))).toMatch(/unpacks to more than 64 KiB/);
    expect(message(tokenOfText(JSON.stringify({ ...payload(), extra: 1 })))).toMatch(/extra: unknown field/);
    expect(message(tokenOfText(JSON.stringify({ ...payload(), recipe: { version: 2, stages: [{ kind: 'prune', method: 'nope' }] } })))).toMatch(/recipe: stages\[0\]\.method/);
    expect(message(tokenOfText('{"v":1,'))).toMatch(/not JSON/);
    expect(message('x'.repeat(20_000))).toMatch(/at most 16384/);
  });

  test('1,000+ hostile links: no throw, no prototype pollution, every refusal is one sentence', () => {
    const random = mulberry32(7);
    const pick = <T,>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=%#&<>"\'/\\ \u0000\u202e😀';
    const payloads = ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '"><svg onload=alert(1)>', 'javascript:alert(1)', '{{constructor.constructor("alert(1)")()}}', '\u202egnp.exe', 'a'.repeat(5000)];
    const pollution = ['__proto__', 'constructor', 'prototype'];
    const valid = JSON.parse(JSON.stringify(payload())) as Record<string, unknown>;
    const tokens: string[] = [];

    // Random text in the token's alphabet and beyond, with and without a version prefix.
    for (let i = 0; i < 300; i++) {
      const n = Math.floor(random() * 400);
      let s = '';
      for (let k = 0; k < n; k++) s += alphabet[Math.floor(random() * alphabet.length)];
      tokens.push(random() < 0.5 ? `1.${s}` : s);
    }
    // Random bytes, deflated as a link would be (valid base64url, valid deflate, garbage inside).
    for (let i = 0; i < 100; i++) {
      const bytes = new Uint8Array(Math.floor(random() * 300));
      for (let k = 0; k < bytes.length; k++) bytes[k] = Math.floor(random() * 256);
      tokens.push(tokenOfText(String.fromCharCode(...bytes)));
    }
    // Every prefix of a valid link.
    const good = encodeShareToken(payload());
    for (let n = 0; n < good.length; n++) tokens.push(good.slice(0, n));
    // Every string field of the payload replaced by markup, and every number by an absurd one.
    const leaves: string[][] = [];
    const walk = (value: unknown, path: string[]) => {
      if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
      else leaves.push(path);
    };
    walk(valid, []);
    const setAt = (root: Record<string, unknown>, path: string[], value: unknown) => {
      let node = root as Record<string, unknown>;
      for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
      node[path[path.length - 1]] = value;
    };
    const absurd = [1e308, -1e308, 2 ** 53 + 1, -0, 1e-320, 123456789012345678901234567890, '1e999', true, null, [], {}];
    for (const path of leaves) {
      for (const value of [...payloads, ...absurd]) {
        const copy = structuredClone(valid);
        setAt(copy, path, value);
        tokens.push(tokenOfText(JSON.stringify(copy)));
      }
    }
    // Prototype-pollution keys at every object level, as JSON text (JSON.parse makes them own keys).
    const objects: string[][] = [[]];
    const walkObjects = (value: unknown, path: string[]) => {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        if (path.length > 0) objects.push(path);
        for (const [k, v] of Object.entries(value)) walkObjects(v, [...path, k]);
      } else if (Array.isArray(value)) value.forEach((v, i) => walkObjects(v, [...path, String(i)]));
    };
    walkObjects(valid, []);
    for (const path of objects) {
      for (const key of pollution) {
        const copy = structuredClone(valid);
        const text = JSON.stringify(copy);
        const target = path.reduce<Record<string, unknown>>((node, k) => node[k] as Record<string, unknown>, copy);
        target.__marker__ = 1;
        tokens.push(tokenOfText(JSON.stringify(copy).replace('"__marker__":1', `"${key}":{"polluted":"yes","isAdmin":true}`)));
        tokens.push(tokenOfText(text.replace(/^\{/, `{"${key}":{"polluted":"yes"},`)));
      }
    }
    // Deep nesting and huge arrays inside the bound.
    tokens.push(tokenOfText(`{"v":1,"recipe":${'['.repeat(20_000)}${']'.repeat(20_000)}}`));
    tokens.push(tokenOfText(JSON.stringify({ ...valid, recipe: { version: 2, stages: Array.from({ length: 3000 }, () => ({ kind: 'prune' })) } })));
    tokens.push(pick(tokens));

    expect(tokens.length).toBeGreaterThanOrEqual(1000);
    let accepted = 0;
    for (const token of tokens) {
      let decoded;
      expect(() => (decoded = decodeShareToken(token))).not.toThrow();
      const d = decoded!;
      if (d.ok) {
        accepted++;
        // Whatever was accepted holds no prototype key and no over-long string.
        const text = JSON.stringify(d.payload);
        expect(text).not.toMatch(/"(__proto__|prototype)"/);
        expect(text.length).toBeLessThan(MAX_PAYLOAD_BYTES);
      } else {
        expect(d.message).toMatch(/^This share link cannot be opened: /);
        expect(d.message.length).toBeLessThan(1500);
        expect(d.message).not.toMatch(/\n|at .*\(.*:\d+:\d+\)/);
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
    console.log(`[share] ${tokens.length} hostile links: ${tokens.length - accepted} refused with a message, ${accepted} accepted as data (markup in a string field shown as text)`);
  });
});
