// Test-only: small Hugging Face export folders made by `npm run gen:hf` (scripts/gen/hf, a
// generator outside the code under test), 2 blocks and narrow, written once per test process
// into a temporary folder. Node only (this folder is skipped by the purity test).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { HfFolderEntry } from '../openFolder.ts';

const root = join(import.meta.dirname, '../../../..');

/** Narrow 2-block shapes: GPT-2 keeps its 50257-token vocabulary (its real tokenizer); the Llama shape has grouped-query attention; BERT (BertForMaskedLM) keeps bert-base's 30522 ids, its special tokens last. */
export const SMALL_FOLDERS = {
  gpt2: ['--preset', 'gpt2', '--blocks', '2', '--hidden', '64', '--heads', '4', '--max-positions', '128'],
  llama: ['--preset', 'tinyllama-1.1b', '--blocks', '2', '--hidden', '64', '--heads', '4', '--kv-heads', '2', '--intermediate', '128', '--max-positions', '128', '--external-data'],
  bert: ['--preset', 'bert-base', '--blocks', '2', '--hidden', '64', '--heads', '4', '--intermediate', '128', '--max-positions', '64'],
} as const;

export type SmallFolder = keyof typeof SMALL_FOLDERS;

let scratch: string | undefined;
const made = new Map<string, string>();

/** The folder for `which` (generated on first use), laid out flat (model.onnx beside config.json). */
export function generatedFolder(which: SmallFolder): string {
  const known = made.get(which);
  if (known) return known;
  scratch ??= mkdtempSync(join(tmpdir(), 'lab-hf-'));
  const out = join(scratch, which);
  if (!existsSync(join(out, 'config.json'))) {
    execFileSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/gen/hf/main.ts'), ...SMALL_FOLDERS[which], '--layout', 'flat', '--seed', '3', '--out', out], { cwd: root, stdio: 'pipe' });
  }
  made.set(which, out);
  return out;
}

/** A folder on disk as openHfFolder's entries (as the CLI reads it, without its size limits). */
export function diskEntries(folder: string): HfFolderEntry[] {
  const entries: HfFolderEntry[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else entries.push({ path: relative(folder, full), size: statSync(full).size, read: async () => new Uint8Array(readFileSync(full)) });
    }
  };
  walk(folder);
  return entries;
}

/** The bundled KJV corpus's evaluation text (public/models/kjv-charlm, decoded with its vocab.json): public-domain English. */
export function corpusText(): string {
  const dir = join(root, 'public/models/kjv-charlm');
  const vocab = JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')) as { chars: string[] };
  const evalSet = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')) as { sequences: number[][] };
  return evalSet.sequences.map((ids) => ids.map((id) => vocab.chars[id]).join('')).join('');
}
