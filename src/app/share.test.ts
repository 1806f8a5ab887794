// A finished run as a share link's payload, the page's address, and what an opened fragment asks for.
import { describe, expect, test } from 'vitest';
import type { CompressReport } from '../core/compress';
import { decodeShareToken, encodeShareToken, LAB_VERSION, shareUrl } from '../core/experiments';
import { tokenOfText } from '../core/experiments/testing/hostileLinks';
import { initialRecipe, useLab, type RunRecord } from './store';
import { applyRecipeAndView, linkOnOpen, pageAddress, sharePayloadOf } from './share';

const cpu = { requested: 'cpu', ran: 'cpu' } as const;

function finishedRun(overrides: Partial<RunRecord> = {}, report: Partial<CompressReport> = {}): RunRecord {
  return {
    id: 'run-3-x',
    number: 3,
    startedAt: 0,
    model: { label: 'KJV char LM', stem: 'kjv-charlm', source: { kind: 'bundled', id: 'kjv-charlm' }, loadId: 1, sha256: 'ef'.repeat(32) },
    recipe: initialRecipe(),
    computeBackend: 'cpu',
    poolSize: 2,
    status: 'done',
    phaseMs: {},
    layersDone: [],
    report: {
      layers: [{ backend: cpu }],
      quantized: [
        { bitsPerWeight: 3, shape: [64, 64], backend: cpu },
        { bitsPerWeight: 4, shape: [64, 192], backend: cpu },
      ],
      backends: { layerFallbacks: 0, hessian: cpu },
      totals: { denseFileBytes: 1_000_000 },
      weightsSha256: '12'.repeat(32),
      ...report,
    } as unknown as CompressReport,
    evaluation: { status: 'done', metrics: { task: 'causal-lm', perplexity: 3.8, bitsPerChar: 1.9, top1: 0.5, meanNll: 1.3, evalTokens: 100 } },
    dense: { metrics: { task: 'causal-lm', perplexity: 3.5, bitsPerChar: 1.8, top1: 0.55, meanNll: 1.25, evalTokens: 100 }, sizeBytes: 3_000_000 },
    held: true,
    interval: { metric: 'perplexity', delta: 0.3, low: 0.25, high: 0.35 },
    ...overrides,
  };
}

describe('a run as a share link', () => {
  test('carries the model, recipe, view and numbers, and survives the codec', () => {
    const made = sharePayloadOf(finishedRun(), { tab: 'masks' });
    expect(made.ok).toBe(true);
    const payload = made.ok ? made.payload : undefined!;
    expect(payload.model).toEqual({ kind: 'bundled', id: 'kjv-charlm' });
    expect(payload.view).toEqual({ tab: 'masks' });
    expect(payload.result).toEqual({ metric: 'perplexity', dense: 3.5, value: 3.8, interval: { low: 0.25, high: 0.35 }, sizeBytes: 1_000_000, denseSizeBytes: 3_000_000, bitsPerWeight: 3.75, weightsSha256: '12'.repeat(32), compute: 'cpu', labVersion: LAB_VERSION });
    expect(decodeShareToken(encodeShareToken(payload))).toEqual({ ok: true, payload });
  });

  test('the picked layer and head travel with the link and are set again when it opens', () => {
    const made = sharePayloadOf(finishedRun(), { tab: 'attention', layer: 'blocks.2.mlp.fc1', head: { block: 3, head: 1 } });
    const payload = made.ok ? made.payload : undefined!;
    const decoded = decodeShareToken(encodeShareToken(payload));
    expect(decoded.ok && decoded.payload.view).toEqual({ tab: 'attention', layer: 'blocks.2.mlp.fc1', head: { block: 3, head: 1 } });
    useLab.setState({ viewLayer: undefined, viewHead: undefined, detailTab: 'overview' });
    applyRecipeAndView(payload);
    expect(useLab.getState()).toMatchObject({ detailTab: 'attention', viewLayer: 'blocks.2.mlp.fc1', viewHead: { block: 3, head: 1 } });
  });

  test('a user model carries its file name and hash; a classifier shares top-1; a GPU layer job says webgpu', () => {
    const run = finishedRun({
      model: { label: 'mine.onnx', stem: 'mine', source: { kind: 'file', name: 'mine.onnx' }, loadId: 1, sha256: 'ef'.repeat(32) },
      evaluation: { status: 'done', metrics: { task: 'image-classification', top1: 0.9, meanNll: 0.3, evalSamples: 10 } },
      dense: { metrics: { task: 'image-classification', top1: 0.95, meanNll: 0.2, evalSamples: 10 }, sizeBytes: 5 },
    }, { layers: [{ backend: { requested: 'webgpu', ran: 'webgpu' } }] as CompressReport['layers'] });
    const made = sharePayloadOf(run, {});
    expect(made.ok && made.payload.model).toEqual({ kind: 'file', name: 'mine.onnx', sha256: 'ef'.repeat(32) });
    expect(made.ok && [made.payload.result?.metric, made.payload.result?.dense, made.payload.result?.value, made.payload.result?.compute]).toEqual(['top1', 0.95, 0.9, 'webgpu']);
  });

  test('an unfinished run, or a user model never hashed, is not shared, with the reason', () => {
    expect(sharePayloadOf(finishedRun({ status: 'running' }), {})).toEqual({ ok: false, reason: 'run 3 has not finished with metrics' });
    const unhashed = finishedRun({ model: { label: 'm', stem: 'm', source: { kind: 'file', name: 'm.onnx' }, loadId: 1 } });
    expect(sharePayloadOf(unhashed, {})).toEqual({ ok: false, reason: "run 3's model file was not hashed, so a link could not check it" });
  });

  test('the page address keeps only ?backend=', () => {
    expect(pageAddress({ origin: 'https://lab.example', pathname: '/compress/', search: '?model=digits-vit&backend=wasm&threads=2' })).toBe('https://lab.example/compress/?backend=wasm');
    expect(pageAddress({ origin: 'http://127.0.0.1:4173', pathname: '/', search: '' })).toBe('http://127.0.0.1:4173/');
  });
});

describe('the fragment a page opens with', () => {
  const payload = sharePayloadOf(finishedRun(), {});
  const url = shareUrl('http://x/', payload.ok ? payload.payload : undefined!);

  test('a share link, a tour, nothing', () => {
    expect(linkOnOpen(url.slice(url.indexOf('#')))).toEqual({ kind: 'share', payload: payload.ok && payload.payload });
    expect(linkOnOpen('#tour=two-four')).toEqual({ kind: 'tour', id: 'two-four' });
    expect(linkOnOpen('')).toEqual({ kind: 'none' });
    expect(linkOnOpen('#section-3')).toEqual({ kind: 'none' });
  });

  test('a damaged link or a tour name that is not a word is refused in one sentence', () => {
    const cut = linkOnOpen(url.slice(url.indexOf('#'), -30));
    expect(cut.kind === 'error' && cut.message).toMatch(/^This share link cannot be opened: .*(cut short|damaged)/);
    const stray = linkOnOpen(`${url.slice(url.indexOf('#'))}#more`);
    expect(stray.kind === 'error' && stray.message).toMatch(/characters a share link never has/);
    expect(linkOnOpen(`#share=${tokenOfText('{"v":2}')}`)).toMatchObject({ kind: 'error', message: expect.stringMatching(/version 1, got 2/) });
    expect(linkOnOpen('#tour=<img src=x onerror=alert(1)>')).toMatchObject({ kind: 'error', message: expect.stringMatching(/^This tour link cannot be opened/) });
  });
});
