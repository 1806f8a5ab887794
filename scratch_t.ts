import { thinSvd } from './src/core/linalg/svd.ts';
for (const [m, n] of [[128,128],[512,128],[128,512]]) {
  const a = Float64Array.from({length: m*n}, () => Math.random()*2-1);
  const t = performance.now(); thinSvd(a, m, n); console.log(m, n, (performance.now()-t).toFixed(0), 'ms');
}
