import { defineConfig, defaultClientConditions, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { createReadStream, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { renderDocPage } from './scripts/docs/render';

// onnxruntime-web loads its wasm glue (.mjs) and binary (.wasm) at run time from env.wasm.wasmPaths.
// We serve them under /ort/ straight from node_modules (dev) and copy them into the build, instead
// of letting the bundler inline a second copy. Two builds (src/runtime/ort.ts): the plain SIMD one
// (14 MB) for WASM sessions, the JSEP one (28 MB) loaded only for WebGPU sessions.
const ortDist = fileURLToPath(new URL('./node_modules/onnxruntime-web/dist/', import.meta.url));
const ortRuntimeFiles = readdirSync(ortDist).filter((f) => /^ort-wasm-simd-threaded(\.jsep)?\.(mjs|wasm)$/.test(f));

// Cross-origin isolation gives SharedArrayBuffer, which multi-threaded WASM needs.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

function serveOrtRuntime(): Plugin {
  return {
    name: 'lab:ort-runtime',
    configureServer(server) {
      server.middlewares.use('/ort/', (req, res, next) => {
        const file = (req.url ?? '').replace(/^\//, '').split('?')[0];
        if (!ortRuntimeFiles.includes(file)) return next();
        res.setHeader('Content-Type', file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        // ORT starts its wasm threads as workers from the .mjs: under COEP they need the headers too.
        for (const [name, value] of Object.entries(isolationHeaders)) res.setHeader(name, value);
        createReadStream(join(ortDist, file)).pipe(res);
      });
    },
    generateBundle() {
      for (const file of ortRuntimeFiles) {
        this.emitFile({ type: 'asset', fileName: `ort/${file}`, source: readFileSync(join(ortDist, file)) });
      }
    },
  };
}

// docs/*.md rendered to HTML under /docs/ (the recipe builder's "More in the docs" links).
const docsDir = fileURLToPath(new URL('./docs/', import.meta.url));
const docPages = () => readdirSync(docsDir).filter((f) => f.endsWith('.md')).map((f) => f.slice(0, -3));

function serveDocs(): Plugin {
  return {
    name: 'lab:docs',
    configureServer(server) {
      server.middlewares.use('/docs/', (req, res, next) => {
        const page = /^\/([\w-]+)\.html$/.exec((req.url ?? '').split('?')[0])?.[1];
        if (!page || !docPages().includes(page)) return next();
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        for (const [name, value] of Object.entries(isolationHeaders)) res.setHeader(name, value);
        res.end(renderDocPage(page, readFileSync(join(docsDir, `${page}.md`), 'utf8')));
      });
    },
    generateBundle() {
      for (const page of docPages()) this.emitFile({ type: 'asset', fileName: `docs/${page}.html`, source: renderDocPage(page, readFileSync(join(docsDir, `${page}.md`), 'utf8')) });
    },
  };
}

export default defineConfig({
  plugins: [react(), serveOrtRuntime(), serveDocs()],
  resolve: {
    // Pick ORT's builds that load the wasm from env.wasm.wasmPaths instead of bundling it.
    conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions],
  },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  worker: { format: 'es' },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    // Two pages: the lab, and the WebGPU kernel check that e2e/kernels.e2e.ts opens.
    rollupOptions: { input: { main: 'index.html', kernelCheck: 'kernel-check.html' } },
  },
});
