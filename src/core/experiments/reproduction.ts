// Whether a rerun reproduced a shared run: the same weights hash, or — when either run's layer jobs
// ran on WebGPU — the bound within which the GPU path may differ. One sentence, the same in the
// page and in `npm run lab -- run <link>`.
import type { SharedResult } from './shareLink.ts';
import { LAB_VERSION } from './version.ts';

export interface Reproduction {
  /** The weights hashes are equal. */
  match: boolean;
  /** Nothing is wrong: equal hashes, or a difference the GPU path explains. */
  ok: boolean;
  text: string;
}

/** The shared run's result against a rerun's weights hash and where the rerun's layer jobs ran. */
export function reproduction(result: SharedResult, weightsSha256: string, computeHere: 'cpu' | 'webgpu' = 'cpu'): Reproduction {
  const here = weightsSha256.slice(0, 16);
  const there = result.weightsSha256.slice(0, 16);
  if (result.weightsSha256 === weightsSha256) return { match: true, ok: true, text: `reproduced: weights SHA-256 ${here}… equals the shared run's` };
  if (result.compute === 'webgpu' || computeHere === 'webgpu') {
    const which = result.compute === 'webgpu' && computeHere === 'webgpu' ? 'both runs’ layer jobs ran on WebGPU' : result.compute === 'webgpu' ? "the shared run's layer jobs ran on WebGPU" : "this run's layer jobs ran on WebGPU";
    return { match: false, ok: true, text: `${which}, whose float order differs from the CPU path within the kernels' tested bound (docs/gpu-kernels.md); this ${computeHere === 'webgpu' ? 'WebGPU' : 'CPU'} run's weights SHA-256 is ${here}…, the shared ${there}…` };
  }
  return { match: false, ok: false, text: `not reproduced: weights SHA-256 ${here}… differs from the shared run's ${there}… (lab ${LAB_VERSION} here, ${result.labVersion} there)` };
}
