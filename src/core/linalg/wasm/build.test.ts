// The committed kernels.wasm.ts is what the *.c files of this folder build to: rebuilt here with clang when it is
// installed (Debian: apt-get install clang lld), byte for byte.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { KERNELS_WASM_BASE64 } from './kernels.wasm.ts';

const BUILD = fileURLToPath(new URL('../../../../scripts/wasm/build.mjs', import.meta.url));
const clang = spawnSync('clang', ['--version'], { encoding: 'utf8' });
const hasClang = clang.status === 0 && /clang version/.test(clang.stdout);

describe('wasm kernels build', () => {
  test('the embedded module validates and exports every kernel', () => {
    const bytes = Uint8Array.from(atob(KERNELS_WASM_BASE64), (c) => c.charCodeAt(0));
    expect(WebAssembly.validate(bytes)).toBe(true);
    const names = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['memory', 'sgemm_sub', 'sgemm_trace_upper', 'sparsegpt_sweep', 'cholesky_lower_f64', 'lower_inverse_f64', 'gram_add4_f64']));
  });

  // Skipped without clang: the committed bytes are then used as they are (the reason is the test name).
  test.skipIf(!hasClang)('the C sources rebuild to the committed bytes (needs clang + wasm-ld; skipped when clang is not installed)', () => {
    const fresh = spawnSync(process.execPath, [BUILD, '--stdout'], { encoding: 'utf8' });
    expect(fresh.status, fresh.stderr).toBe(0);
    expect(fresh.stdout).toBe(KERNELS_WASM_BASE64);
  });
});
