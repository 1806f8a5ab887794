// `npm run bench:pack [-- --out DIR]`: the benchmark as a folder that runs on a Linux machine with
// a real GPU and no Node.js or npm (e.g. a lent NVIDIA machine that has only Python/PyTorch):
//   bench.mjs          the benchmark bundled by esbuild, WGSL inlined (no Vite at run time)
//   node.xz            this machine's Node binary, xz-compressed (run.sh unpacks it, with xz or Python's lzma)
//   node_modules/webgpu/  the `webgpu` package's loader and its Dawn `dawn.node` (xz-compressed)
//   lib/libvulkan.so.1    a Vulkan loader (Debian's, from the chromium package): Dawn dlopens it and it
//                         finds the machine's own ICD (NVIDIA's) in /usr/share/vulkan/icd.d
//   lib/compat/libstdc++.so.6  Debian's, used only where the machine's lacks GLIBCXX_3.4.30 (dawn.node needs it)
//   torch_prune.py     the PyTorch rows' script, run by that machine's python3
//   run.sh             unpacks, then runs `--only layer,kernels` (the WebGPU rows) with any extra arguments
// Test it here under `env -i` with SwiftShader: `VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json`.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LIMIT_BYTES = 45 * 1024 * 1024;
const VULKAN_LOADER = '/usr/lib/chromium/libvulkan.so.1';
const LIBSTDCXX = '/usr/lib/x86_64-linux-gnu/libstdc++.so.6';

/** `import text from './x.wgsl?raw'`, as Vite resolves it: the file's text as a string. */
const rawText: Plugin = {
  name: 'raw-text',
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, (args) => ({ path: resolve(args.resolveDir, args.path.slice(0, -'?raw'.length)), namespace: 'raw-text' }));
    b.onLoad({ filter: /.*/, namespace: 'raw-text' }, (args) => ({ contents: readFileSync(args.path, 'utf8'), loader: 'text' }));
  },
};

function xz(source: string, target: string): void {
  execFileSync('sh', ['-c', `xz -9 -T0 -c "${source}" > "${target}"`]);
}

const RUN_SH = `#!/bin/sh
# Runs the Compression Lab benchmark's WebGPU rows on this machine (no Node.js needed).
#   ./run.sh                       layer + kernels sections on the Vulkan adapter the loader finds
#   ./run.sh --torch-threads 4     any option of npm run bench
# LAB_GPU_BACKEND (default vulkan), VK_ICD_FILENAMES and LAB_PYTHON (default: python3 on PATH) may be set.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
unpack() {
  if command -v xz >/dev/null 2>&1; then xz -dc "$1" > "$2.part"
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2.part"; fi
  mv "$2.part" "$2"
}
[ -x "$here/bin/node" ] || { mkdir -p "$here/bin"; unpack "$here/node.xz" "$here/bin/node"; chmod +x "$here/bin/node"; }
dawn="$here/node_modules/webgpu/dist/linux-x64/dawn.node"
[ -f "$dawn" ] || unpack "$dawn.xz" "$dawn"
libs="$here/lib"
system_cxx=$( (ldconfig -p 2>/dev/null || true) | awk '/libstdc\\+\\+\\.so\\.6 .*x86-64/ {print $NF; exit}')
if [ -z "$system_cxx" ] || ! grep -q GLIBCXX_3.4.30 "$system_cxx" 2>/dev/null; then libs="$libs:$here/lib/compat"; fi
export LD_LIBRARY_PATH="$libs\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LAB_VULKAN_LOADER="$here/lib/libvulkan.so.1"
export LAB_GPU_BACKEND="\${LAB_GPU_BACKEND:-vulkan}"
if [ -z "\${LAB_PYTHON:-}" ]; then LAB_PYTHON=$(command -v python3 || echo python3); fi
export LAB_PYTHON
cd "$here"
exec "$here/bin/node" "$here/bench.mjs" --only layer,kernels "$@"
`;

function sizeOf(path: string): number {
  const stat = statSync(path);
  return stat.isDirectory() ? readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0) : stat.size;
}

async function main(): Promise<void> {
  const outIndex = process.argv.indexOf('--out');
  const out = resolve(outIndex >= 0 ? process.argv[outIndex + 1] : join(root, 'bench/pack'));
  for (const need of [VULKAN_LOADER, LIBSTDCXX]) if (!existsSync(need)) throw new Error(`${need} is missing (apt-get install chromium)`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'lib/compat'), { recursive: true });

  console.error('[pack] bundling the benchmark…');
  await build({
    entryPoints: [join(root, 'bench/run.ts')],
    outfile: join(out, 'bench.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    plugins: [rawText],
    // Vite is the unbundled path's WGSL loader; webgpu carries its native addon beside the bundle.
    external: ['vite', 'webgpu'],
    define: { __LAB_BENCH_BUNDLE__: 'true' },
    // ORT's Node entry and other CommonJS dependencies call require().
    banner: { js: "import { createRequire as __labCreateRequire } from 'node:module'; const require = __labCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  copyFileSync(join(root, 'bench/torch_prune.py'), join(out, 'torch_prune.py'));

  console.error('[pack] webgpu package and dawn.node…');
  const webgpu = join(root, 'node_modules/webgpu');
  const webgpuOut = join(out, 'node_modules/webgpu');
  mkdirSync(join(webgpuOut, 'dist/linux-x64'), { recursive: true });
  for (const file of ['package.json', 'index.js', 'LICENSE.md']) copyFileSync(join(webgpu, file), join(webgpuOut, file));
  xz(join(webgpu, 'dist/linux-x64/dawn.node'), join(webgpuOut, 'dist/linux-x64/dawn.node.xz'));

  console.error('[pack] Vulkan loader, libstdc++, Node…');
  copyFileSync(VULKAN_LOADER, join(out, 'lib/libvulkan.so.1'));
  copyFileSync(LIBSTDCXX, join(out, 'lib/compat/libstdc++.so.6'));
  xz(process.execPath, join(out, 'node.xz'));
  writeFileSync(join(out, 'run.sh'), RUN_SH);
  chmodSync(join(out, 'run.sh'), 0o755);

  const bytes = sizeOf(out);
  console.log(`${out}: ${(bytes / 2 ** 20).toFixed(1)} MiB (limit ${LIMIT_BYTES / 2 ** 20} MiB)`);
  if (bytes > LIMIT_BYTES) throw new Error(`the pack is ${(bytes / 2 ** 20).toFixed(1)} MiB, over the ${LIMIT_BYTES / 2 ** 20} MiB limit`);
}

main().catch((error: Error) => {
  console.error(`bench:pack: ${error.message}`);
  process.exit(1);
});
