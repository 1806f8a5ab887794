// The tours are data: every step's link survives the share-link codec, names a bundled model,
// and every highlighted target is a data-testid some component renders.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { decodeShareToken, encodeShareToken, shareUrl } from '../core/experiments';
import { tours } from './tours';

const componentsDir = join(import.meta.dirname, 'components');
const bundled = (JSON.parse(readFileSync(join(import.meta.dirname, '../../public/models/index.json'), 'utf8')) as { models: string[] }).models;

/** Every data-testid the components render: literal ones, and the quoted names inside `data-testid={…}`. */
function renderedTestIds(): Set<string> {
  const ids = new Set<string>();
  for (const file of readdirSync(componentsDir).filter((f) => f.endsWith('.tsx'))) {
    const source = readFileSync(join(componentsDir, file), 'utf8');
    for (const m of source.matchAll(/data-testid=(?:"([^"]+)"|\{([^}]*)\})/g)) {
      if (m[1]) ids.add(m[1]);
      else for (const q of m[2].matchAll(/'([^']+)'/g)) ids.add(q[1]);
    }
  }
  return ids;
}

describe('guided tours', () => {
  test('the six named tours, each of 3 to 6 steps', () => {
    expect(tours.map((t) => t.title)).toEqual([
      'What 50 % sparsity does to a language model',
      '2:4 sparsity, the pattern GPUs accelerate',
      'Why SparseGPT beats magnitude pruning',
      'GPTQ vs round-to-nearest at 3 bits',
      'Attention sinks and ACT',
      'Why smaller is not always faster',
    ]);
    expect(new Set(tours.map((t) => t.id)).size).toBe(tours.length);
    for (const tour of tours) {
      expect(tour.id).toMatch(/^[a-z0-9-]{1,64}$/);
      expect(tour.steps.length).toBeGreaterThanOrEqual(3);
      expect(tour.steps.length).toBeLessThanOrEqual(6);
    }
  });

  test('every step link survives the share-link codec and names a bundled model', () => {
    const lengths: string[] = [];
    for (const tour of tours) {
      for (const step of tour.steps.filter((s) => s.link)) {
        const decoded = decodeShareToken(encodeShareToken(step.link!));
        expect(decoded).toEqual({ ok: true, payload: step.link });
        expect(step.link!.model.kind === 'bundled' && bundled.includes(step.link!.model.id)).toBe(true);
      }
      const first = tour.steps[0].link!;
      lengths.push(`${tour.id} ${shareUrl('http://localhost:5173/', first).length}`);
    }
    console.log(`[tours] first-step link lengths (no result summary): ${lengths.join(', ')}`);
  });

  test('a step that offers a run has a recipe from its own or an earlier step; the first step sets one', () => {
    for (const tour of tours) {
      expect(tour.steps[0].link, `${tour.id} starts without a link`).toBeDefined();
      tour.steps.forEach((step, i) => {
        if (step.run) expect(tour.steps.slice(0, i + 1).some((s) => s.link)).toBe(true);
      });
    }
  });

  test('tours go to the vision model where it makes sense', () => {
    const withVit = tours.filter((t) => t.steps.some((s) => s.link?.model.kind === 'bundled' && s.link.model.id === 'digits-vit'));
    expect(withVit.map((t) => t.id)).toEqual(['sparsity-50', 'two-four', 'gptq-vs-rtn', 'attention-sinks']);
  });

  test('every highlighted target is a data-testid a component renders', () => {
    const ids = renderedTestIds();
    expect(ids.size).toBeGreaterThan(50);
    for (const tour of tours) for (const step of tour.steps) expect(ids.has(step.target), `${tour.id}: "${step.target}" is no component's data-testid`).toBe(true);
  });
});
