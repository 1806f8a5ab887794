// Hostile share-link tokens for tests, seeded: random text and bytes, every prefix of a valid link,
// every field replaced by markup or an absurd value, prototype-pollution keys at every level, deep
// nesting, a deflate bomb. Used by the decoder's test (shareLink.test.ts) and by the page's test
// (src/app/components/sharedResult.test.ts), so both face the same links.
import { deflateSync } from 'fflate';
import { mulberry32 } from '../../calibrate/random.ts';
import { encodeShareToken, MAX_PAYLOAD_BYTES, type SharePayload } from '../shareLink.ts';

/** The token of arbitrary JSON text, bypassing the typed encoder (what a hand-made link holds). */
export function tokenOfText(text: string): string {
  const bytes = deflateSync(new TextEncoder().encode(text));
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return `1.${btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}

/** Markup and script a link might smuggle into any string field; the page must show it as text. */
export const MARKUP_PAYLOADS = [
  '<script>window.__pwned=1</script>',
  '<img src=x onerror=window.__pwned=1>',
  '"><svg onload=window.__pwned=1>',
  "'><iframe srcdoc=\"<script>parent.__pwned=1</script>\">",
  'javascript:window.__pwned=1',
  '{{constructor.constructor("window.__pwned=1")()}}',
  '\u202egnp.exe',
  'a'.repeat(5000),
];

const ABSURD_VALUES = [1e308, -1e308, 2 ** 53 + 1, -0, 1e-320, 123456789012345678901234567890, '1e999', true, null, [], {}];
const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype'];
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=%#&<>"\'/\\ \u0000\u202e😀';

function leafPaths(value: unknown, path: string[] = [], out: string[][] = []): string[][] {
  if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) leafPaths(v, [...path, k], out);
  else out.push(path);
  return out;
}

function objectPaths(value: unknown, path: string[] = [], out: string[][] = [[]]): string[][] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    if (path.length > 0) out.push(path);
    for (const [k, v] of Object.entries(value)) objectPaths(v, [...path, k], out);
  } else if (Array.isArray(value)) value.forEach((v, i) => objectPaths(v, [...path, String(i)], out));
  return out;
}

function setAt(root: Record<string, unknown>, path: string[], value: unknown): void {
  let node = root;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[path[path.length - 1]] = value;
}

/** Seeded hostile tokens built around `valid` (a well-formed payload): well over a thousand. */
export function hostileShareTokens(valid: SharePayload, seed = 7): string[] {
  const random = mulberry32(seed);
  const json = JSON.parse(JSON.stringify(valid)) as Record<string, unknown>;
  const tokens: string[] = [];
  // Random text in the token's alphabet and beyond, with and without a version prefix.
  for (let i = 0; i < 300; i++) {
    const n = Math.floor(random() * 400);
    let s = '';
    for (let k = 0; k < n; k++) s += ALPHABET[Math.floor(random() * ALPHABET.length)];
    tokens.push(random() < 0.5 ? `1.${s}` : s);
  }
  // Random bytes, deflated as a link would be (valid base64url, valid deflate, garbage inside).
  for (let i = 0; i < 100; i++) {
    const bytes = new Uint8Array(Math.floor(random() * 300));
    for (let k = 0; k < bytes.length; k++) bytes[k] = Math.floor(random() * 256);
    tokens.push(tokenOfText(String.fromCharCode(...bytes)));
  }
  // Every prefix of a valid link.
  const good = encodeShareToken(valid);
  for (let n = 0; n < good.length; n++) tokens.push(good.slice(0, n));
  // Every leaf of the payload replaced by markup, and by an absurd value.
  for (const path of leafPaths(json)) {
    for (const value of [...MARKUP_PAYLOADS, ...ABSURD_VALUES]) {
      const copy = structuredClone(json);
      setAt(copy, path, value);
      tokens.push(tokenOfText(JSON.stringify(copy)));
    }
  }
  // Prototype-pollution keys at every object level, as JSON text (JSON.parse makes them own keys).
  for (const path of objectPaths(json)) {
    for (const key of POLLUTION_KEYS) {
      const copy = structuredClone(json);
      const text = JSON.stringify(copy);
      const target = path.reduce<Record<string, unknown>>((node, k) => node[k] as Record<string, unknown>, copy);
      target.__marker__ = 1;
      tokens.push(tokenOfText(JSON.stringify(copy).replace('"__marker__":1', `"${key}":{"polluted":"yes","isAdmin":true}`)));
      tokens.push(tokenOfText(text.replace(/^\{/, `{"${key}":{"polluted":"yes"},`)));
    }
  }
  // Deep nesting, a huge array inside the bound, and a deflate bomb past it.
  tokens.push(tokenOfText(`{"v":1,"recipe":${'['.repeat(20_000)}${']'.repeat(20_000)}}`));
  tokens.push(tokenOfText(JSON.stringify({ ...json, recipe: { version: 2, stages: Array.from({ length: 3000 }, () => ({ kind: 'prune' })) } })));
  tokens.push(tokenOfText(' '.repeat(MAX_PAYLOAD_BYTES * 16)));
  return tokens;
}
