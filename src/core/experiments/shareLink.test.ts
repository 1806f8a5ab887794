import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseRecipeText } from '../recipe';
import { hostileShareTokens, tokenOfText } from './testing/hostileLinks';
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
    const tokens = hostileShareTokens(payload());
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
