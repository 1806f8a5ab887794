// @vitest-environment jsdom
// The teaching views rendered in jsdom against a fake worker with canned answers: what a reader
// sees (summary, wrong and changed marks as text, prompt and generated text apart) and what the
// views ask the worker for.
import { act, createElement } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { CharVocab } from '../../core/catalog/vocab';
import type { ImageDataset } from '../../core/eval/datasets';
import type { ImagePrediction } from '../../core/eval/predict';
import type { GenerateResult, PredictResult, WorkerRequest } from '../../../workers/protocol';
import { DigitGrid } from './DigitGrid';
import { GenerateView } from './GenerateView';
import { charCodec } from '../textCodec';
import type { TeachingRuntime } from './teachingRuntime';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

type Call = Extract<WorkerRequest, { type: 'generate' | 'predict' }>;

/** A worker whose answers are functions of the request; records every request. */
function fakeRuntime(answer: { generate?: (req: Extract<Call, { type: 'generate' }>) => GenerateResult; predict?: (req: Extract<Call, { type: 'predict' }>) => PredictResult }) {
  const calls: Call[] = [];
  let nextJob = 1;
  const runtime: TeachingRuntime = {
    backend: 'wasm',
    numThreads: 1,
    worker: {
      generate: (body) => {
        const req = { type: 'generate', jobId: nextJob++, ...body } as const;
        calls.push(req);
        return { jobId: req.jobId, done: Promise.resolve(answer.generate!(req)) };
      },
      predict: (body) => {
        const req = { type: 'predict', jobId: nextJob++, ...body } as const;
        calls.push(req);
        return { jobId: req.jobId, done: Promise.resolve(answer.predict!(req)) };
      },
      cancel: () => {},
    },
  };
  return { runtime, calls };
}

let host: HTMLDivElement;
let root: Root;
beforeEach(() => {
  host = document.createElement('div');
  document.body.append(host);
  root = createRoot(host);
});
afterEach(async () => {
  await act(async () => root.unmount());
  host.remove();
});

const render = (element: ReturnType<typeof createElement>) => act(async () => root.render(element));

describe('DigitGrid', () => {
  const dataset: ImageDataset = {
    kind: 'image-classification',
    shape: [1, 2, 2],
    preprocess: { divide: 16 },
    images: Array.from({ length: 6 }, (_, i) => [i, 16, 0, 8]),
    labels: [0, 1, 2, 3, 4, 5],
  };
  // Dense: right except image 5 (says 0). Compressed: also wrong on 1 (says 7) and 2 (says 9).
  const answers: Record<string, number[]> = { dense: [0, 1, 2, 3, 4, 0], run: [0, 7, 9, 3, 4, 0] };
  const predict = (req: Extract<Call, { type: 'predict' }>): PredictResult => ({
    predictions: req.indices.map((i): ImagePrediction => ({ index: i, label: dataset.labels[i], predicted: answers[req.target === 'dense' ? 'dense' : req.target.runId][i], probability: 0.9 })),
    backend: { requested: 'wasm', used: 'wasm' },
  });

  test('counts changed predictions and marks wrong and changed cells with words', async () => {
    const { runtime, calls } = fakeRuntime({ predict });
    await render(createElement(DigitGrid, { runtime, dataset, runId: 'run', pageSize: 4 }));
    expect(calls.map((c) => [c.target, (c as Extract<Call, { type: 'predict' }>).indices])).toEqual([
      ['dense', [0, 1, 2, 3]],
      [{ runId: 'run' }, [0, 1, 2, 3]],
    ]);
    expect(host.querySelector('[data-testid="digit-summary"]')?.textContent).toBe(
      'The compressed model changes 2 of 4 predictions (dense: 4 of 4 correct; compressed: 2 correct).',
    );
    const cells = [...host.querySelectorAll('li.teach-digit')];
    expect(cells.map((c) => c.className)).toEqual(['teach-digit', 'teach-digit wrong changed', 'teach-digit wrong changed', 'teach-digit']);
    expect(cells[1].textContent).toContain('compressed: 7 ✗ wrong');
    expect(cells[1].textContent).toContain('changed');
    expect(cells[0].textContent).not.toContain('wrong');
    expect(cells[0].querySelectorAll('svg rect.pixel').length).toBe(2); // image 0 is [0, 16, 0, 8]
  });

  test('pages on, and shows only the changed ones when asked', async () => {
    const { runtime } = fakeRuntime({ predict });
    await render(createElement(DigitGrid, { runtime, dataset, runId: 'run', runLabel: 'Wanda 50 %', pageSize: 4 }));
    const next = [...host.querySelectorAll('button')].find((b) => b.textContent === 'Next 4')!;
    await act(async () => next.click());
    expect([...host.querySelectorAll('li.teach-digit')].map((c) => c.getAttribute('data-index'))).toEqual(['4', '5']);
    expect(host.querySelector('[data-testid="digit-summary"]')?.textContent).toContain('The Wanda 50 % model changes 0 of 2 predictions');
    await act(async () => (host.querySelector('input[type="checkbox"]') as HTMLInputElement).click());
    expect(host.querySelectorAll('li.teach-digit').length).toBe(0);
    expect(host.textContent).toContain('No prediction changed on this page.');
  });

  test('without a run, only the dense model is asked', async () => {
    const { runtime, calls } = fakeRuntime({ predict });
    await render(createElement(DigitGrid, { runtime, dataset }));
    expect(calls.map((c) => c.target)).toEqual(['dense']);
    expect(host.querySelector('[data-testid="digit-summary"]')?.textContent).toBe('Dense model: 5 of 6 correct.');
  });
});

describe('GenerateView', () => {
  const vocab: CharVocab = { kind: 'char', chars: [' ', 'a', 'b', 'c', 'd'] };
  const generate = (req: Extract<Call, { type: 'generate' }>): GenerateResult => ({
    // Dense continues "abcd"; the compressed model departs at its third character.
    generation: { ids: req.target === 'dense' ? [1, 2, 3, 4] : [1, 2, 4, 4], probabilities: [0.5, 0.5, 0.5, 0.5] },
    backend: { requested: 'wasm', used: 'wasm' },
    generateMs: 12,
  });

  async function typePrompt(text: string) {
    const textarea = host.querySelector('textarea')!;
    const setValue = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!;
    await act(async () => {
      setValue.call(textarea, text);
      textarea.dispatchEvent(new Event('input', { bubbles: true }));
    });
  }

  test('refuses characters outside the vocabulary, naming them, before anything runs', async () => {
    const { runtime, calls } = fakeRuntime({ generate });
    await render(createElement(GenerateView, { runtime, codec: charCodec(vocab), contextLength: 8, runId: 'run' }));
    await typePrompt('ab?');
    expect(host.querySelector('ul.problems')?.textContent).toContain('The model never saw "?"');
    expect((host.querySelector('button[type="submit"]') as HTMLButtonElement).disabled).toBe(true);
    expect(calls).toEqual([]);
  });

  test('shows the prompt apart from each model\'s text and where the compressed text departs', async () => {
    const { runtime, calls } = fakeRuntime({ generate });
    await render(createElement(GenerateView, { runtime, codec: charCodec(vocab), contextLength: 8, runId: 'run', runLabel: 'SparseGPT 2:4' }));
    await typePrompt('ab a');
    await act(async () => (host.querySelector('button[type="submit"]') as HTMLButtonElement).click());
    expect(calls.map((c) => [c.target, (c as Extract<Call, { type: 'generate' }>).promptIds, (c as Extract<Call, { type: 'generate' }>).contextLength])).toEqual([
      ['dense', [1, 2, 0, 1], 8],
      [{ runId: 'run' }, [1, 2, 0, 1], 8],
    ]);
    const columns = [...host.querySelectorAll('section.teach-column')];
    expect(columns.map((c) => c.querySelector('h3')?.textContent)).toEqual(['Dense model', 'SparseGPT 2:4']);
    expect(columns[0].querySelector('.teach-prompt-text')?.textContent).toBe('ab a');
    expect(columns[0].querySelector('.teach-generated')?.textContent).toBe('abcd');
    expect(columns[1].querySelector('.teach-generated')?.textContent).toBe('abdd');
    expect(columns[1].querySelector('.teach-diverged')?.textContent).toBe('dd');
    expect(columns[1].querySelector('[data-testid="divergence"]')?.textContent).toContain('at generated character 3');
    expect(columns[0].querySelector('.teach-text')?.textContent).toBe('Prompt: ab a Generated: abcd');
  });

  test('a sampled request carries temperature, top-k and seed', async () => {
    const { runtime, calls } = fakeRuntime({ generate });
    await render(createElement(GenerateView, { runtime, codec: charCodec(vocab), contextLength: 8 }));
    await typePrompt('a');
    await act(async () => (host.querySelectorAll('input[type="radio"]')[1] as HTMLInputElement).click());
    await act(async () => (host.querySelector('button[type="submit"]') as HTMLButtonElement).click());
    expect(calls).toHaveLength(1);
    expect((calls[0] as Extract<Call, { type: 'generate' }>).strategy).toEqual({ kind: 'sample', temperature: 0.8, topK: 10, seed: 1 });
    expect(host.querySelectorAll('section.teach-column').length).toBe(1);
  });
});
