// The role colours: WCAG contrast against white, and apart under simulated colour-vision deficiency.
import { describe, expect, test } from 'vitest';
import { ROLE_CLASSES, roleClassOf } from './rolePalette';

const linear = (c: number) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
const rgb = (hex: string) => [1, 3, 5].map((i) => linear(parseInt(hex.slice(i, i + 2), 16) / 255));
/** WCAG 2.1 relative luminance and contrast ratio. */
const luminance = ([r, g, b]: number[]) => 0.2126 * r + 0.7152 * g + 0.0722 * b;
const contrastWithWhite = (hex: string) => 1.05 / (luminance(rgb(hex)) + 0.05);

// Machado, Oliveira & Fernandes (2009), severity 1.0, on linear RGB.
const dichromacy: Record<string, number[][]> = {
  normal: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
  protan: [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
  deutan: [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.01182, 0.04294, 0.968881]],
  tritan: [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.3039]],
};
/** CIELAB (D65) of a linear RGB triple. */
function lab(v: number[]): number[] {
  const [r, g, b] = v.map((c) => Math.min(1, Math.max(0, c)));
  const f = (t: number) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  const [x, y, z] = [(0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, luminance([r, g, b]), (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883];
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}

describe('role palette', () => {
  test('every role colour has at least 3:1 contrast against white (WCAG 2.1 SC 1.4.11, AA)', () => {
    for (const c of ROLE_CLASSES) expect(contrastWithWhite(c.color), c.label).toBeGreaterThanOrEqual(3);
  });

  test.each(Object.keys(dichromacy))('the colours stay apart under %s vision (CIELAB ΔE ≥ 9)', (kind) => {
    const m = dichromacy[kind];
    const seen = ROLE_CLASSES.map((c) => lab(m.map((row) => row.reduce((s, w, i) => s + w * rgb(c.color)[i], 0))));
    for (let i = 0; i < seen.length; i++)
      for (let j = i + 1; j < seen.length; j++) expect(Math.hypot(...seen[i].map((v, k) => v - seen[j][k])), `${ROLE_CLASSES[i].label} vs ${ROLE_CLASSES[j].label}`).toBeGreaterThanOrEqual(9);
  });

  test('every role the model analysis assigns has a class; unknown names are "other"', () => {
    expect(roleClassOf('attn.qkv').label).toBe('attention q/k/v');
    expect(roleClassOf('mlp.gate').label).toBe('MLP up/gate');
    expect(roleClassOf('embed').label).toBe('other');
    expect(roleClassOf('something.new').label).toBe('other');
    expect(ROLE_CLASSES.flatMap((c) => c.roles).sort()).toEqual(['attn.k', 'attn.out', 'attn.q', 'attn.qkv', 'attn.v', 'embed', 'head', 'mlp.down', 'mlp.gate', 'mlp.up', 'other']);
  });
});
