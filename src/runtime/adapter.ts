// What kind of WebGPU adapter this context has. A software adapter (Chromium's SwiftShader, Mesa's
// llvmpipe/lavapipe, WARP) runs WebGPU on the CPU: correct, but on the bundled LM 6–13× slower
// than ONNX Runtime's WASM build on the same cores (docs/backend-choice.md), so *auto* treats it as
// no GPU and says why.
export type AdapterVerdict =
  | { kind: 'hardware'; name: string }
  | { kind: 'software'; name: string }
  | { kind: 'none'; reason: string };

const softwareNames = /swiftshader|llvmpipe|lavapipe|softpipe|software|microsoft basic render|warp/i;

/** A readable adapter name from GPUAdapterInfo ("SwiftShader Device (Subzero)", "nvidia ampere"). */
export function adapterName(info: Partial<GPUAdapterInfo> | undefined): string {
  const parts = [info?.description, info?.vendor && info?.architecture ? `${info.vendor} ${info.architecture}` : info?.vendor ?? info?.architecture, info?.device];
  return parts.find((p) => typeof p === 'string' && p.trim() !== '')?.trim() ?? 'unnamed adapter';
}

/** Software when the adapter says it is a fallback, or when any of its names is a CPU renderer. */
export function classifyAdapter(info: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean }, isFallbackAdapter = false): AdapterVerdict {
  const text = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
  const name = softwareNames.exec(text)?.[0] ?? adapterName(info);
  if (isFallbackAdapter || info.isFallbackAdapter || softwareNames.test(text)) return { kind: 'software', name: /swiftshader/i.test(name) ? 'SwiftShader' : name };
  return { kind: 'hardware', name };
}

let probed: Promise<AdapterVerdict> | undefined;

/** Asks this context's navigator.gpu for an adapter once, and classifies it. */
export function probeAdapter(): Promise<AdapterVerdict> {
  probed ??= (async (): Promise<AdapterVerdict> => {
    const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
    if (!gpu) return { kind: 'none', reason: 'this runtime exposes no navigator.gpu (WebGPU not supported or not enabled)' };
    try {
      const adapter = await gpu.requestAdapter();
      if (!adapter) return { kind: 'none', reason: 'navigator.gpu.requestAdapter() returned no adapter' };
      const fallback = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
      return classifyAdapter(adapter.info ?? {}, fallback);
    } catch (e) {
      return { kind: 'none', reason: `requesting a WebGPU adapter failed: ${(e as Error).message}` };
    }
  })();
  return probed;
}

/** The sentence the UI shows when *auto* does not use the adapter it found. */
export function autoFallbackReason(verdict: AdapterVerdict): string | undefined {
  if (verdict.kind === 'hardware') return undefined;
  if (verdict.kind === 'none') return verdict.reason;
  return `software GPU found (${verdict.name}); using the CPU, which is faster here`;
}
