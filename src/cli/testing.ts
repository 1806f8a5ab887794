// Test-only: `npm run lab -- …` as a child process (the CLI as users run it), with its exit code
// and both streams; a failing command resolves too, so tests can read its message.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

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
