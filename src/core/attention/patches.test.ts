// Token labels of a ViT from its card and image shape: the bundled digits ViT's own card, cards
// with a different patch size or no class token, a card-less model (inferred), and layouts that
// do not fit (index labels). The expected order is the training script's patchify.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { imageTokenLabels, patchLayout, patchToken, patchTokenLabels } from './patches.ts';

const vitCard = JSON.parse(readFileSync(join(import.meta.dirname, '../../../public/models/digits-vit/model.json'), 'utf8')) as { architecture: { patchSize: number[]; clsToken: boolean; tokens: number } };

describe('patchLayout and patch labels', () => {
  test('the bundled ViT: CLS, then 4 × 4 patches of 2 × 2 pixels row-major', () => {
    const layout = patchLayout([1, 8, 8], vitCard.architecture.tokens, vitCard.architecture);
    expect(layout).toEqual({ gridRows: 4, gridCols: 4, patchHeight: 2, patchWidth: 2, clsToken: true });
    const labels = patchTokenLabels(layout!);
    expect(labels).toHaveLength(17);
    expect(labels.slice(0, 6)).toEqual(['CLS', 'r0c0', 'r0c1', 'r0c2', 'r0c3', 'r1c0']);
    expect(labels[16]).toBe('r3c3');
    // Token 1 + 4·row + col, as patchify's reshape/permute orders them.
    expect(patchToken(layout!, 2, 1)).toBe(10);
    expect(labels[patchToken(layout!, 2, 1)]).toBe('r2c1');
  });

  test('without a card the layout is inferred from the shape and the token count', () => {
    expect(patchLayout([1, 8, 8], 17)).toEqual({ gridRows: 4, gridCols: 4, patchHeight: 2, patchWidth: 2, clsToken: true });
    expect(patchLayout([8, 8], 16)).toEqual({ gridRows: 4, gridCols: 4, patchHeight: 2, patchWidth: 2, clsToken: false });
    expect(patchLayout([3, 32, 32], 65)?.patchHeight).toBe(4);
  });

  test('other cards: a tall image, rectangular patches, no class token, a scalar patch size', () => {
    expect(imageTokenLabels([1, 8, 4], 9, { patchSize: [2, 2], clsToken: true })).toEqual(['CLS', 'r0c0', 'r0c1', 'r1c0', 'r1c1', 'r2c0', 'r2c1', 'r3c0', 'r3c1']);
    expect(patchLayout([1, 4, 8], 5, { patchSize: [2, 4] })).toEqual({ gridRows: 2, gridCols: 2, patchHeight: 2, patchWidth: 4, clsToken: true });
    expect(imageTokenLabels([1, 8, 8], 4, { patchSize: 4, clsToken: false })).toEqual(['r0c0', 'r0c1', 'r1c0', 'r1c1']);
  });

  test('index labels when the layout cannot be derived', () => {
    const indices = (n: number) => Array.from({ length: n }, (_, k) => String(k));
    // The card's patch size gives 16 patches, but the graph has 20 tokens (a register token, say).
    expect(imageTokenLabels([1, 8, 8], 20, vitCard.architecture)).toEqual(indices(20));
    // Patches that do not tile the image, a flat shape, no tokens.
    expect(imageTokenLabels([1, 8, 8], 17, { patchSize: [3, 3] })).toEqual(indices(17));
    expect(imageTokenLabels([64], 17)).toEqual(indices(17));
    expect(imageTokenLabels([1, 8, 8], 0)).toEqual([]);
    // A count no square patch gives (8 × 8 tiles into 1, 4, 16 or 64 patches).
    expect(imageTokenLabels([1, 8, 8], 7)).toEqual(indices(7));
  });

  test('a card that says "no class token" is believed', () => {
    expect(patchLayout([1, 8, 8], 17, { clsToken: false })).toBeUndefined();
  });
});
