// Test-only: `npm run lab -- …` as a child process (the CLI as users run it), with its exit code
// and both streams; a failing command resolves too, so tests can read its message.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll } from 'vitest';
import { corpusText } from '../core/hf/testing/generatedFolders';

const exec = promisify(execFile);

export interface LabOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runLab(...args: string[]): Promise<LabOutcome> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', 'scripts/lab.ts', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failed = e as LabOutcome;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/**
 * One test file's scratch folder for `lab run <recipe> <hf-folder> --text …`: the bundled corpus's
 * text written in it, and `recipe(name)` a copy of recipes/<name> with 8 calibration samples (the
 * short text gives about 15 windows). Removed after the file's tests.
 */
export function hfRunScratch(prefix: string): { scratch: string; textPath: string; recipe: (name: string) => string } {
  const scratch = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const textPath = join(scratch, 'kjv.txt');
  writeFileSync(textPath, corpusText());
  const recipe = (name: string) => {
    const json = JSON.parse(readFileSync(join('recipes', name), 'utf8'));
    json.calibration.samples = 8;
    const path = join(scratch, name);
    writeFileSync(path, JSON.stringify(json));
    return path;
  };
  return { scratch, textPath, recipe };
}
