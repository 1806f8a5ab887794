// Analysis is linear in nodes and edges (issue 7): the large and oddly shaped graphs that once
// hung it (a quadratic walk) or overflowed the stack (Math.max(...big)) are analysed within a
// generous time limit, and still give the same answer as the small graph they are made from.
// scripts/largeGraphTimings.ts times the same cases, 140 000 chained linear layers and a
// 1 000 000-node graph; src/cli/printAnalysis.test.ts prints 140 000 layers.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readModel } from '../onnx/index.ts';
import { analyzeModel } from './analyze.ts';
import { fanOutMlp, renamedCopies, repeatNodes, wideAttention } from './largeGraphs.ts';
import { attentionBlock } from './testGraphs.ts';

const bundled = (id: string) =>
  readModel(new Uint8Array(readFileSync(new URL(`../../../public/models/${id}/model.onnx`, import.meta.url))));

/** Quadratic code took minutes on these; linear code takes about a second on a loaded 2-core box. */
const LIMIT_MS = 60_000;

describe('large graphs are analysed in linear time', () => {
  it('the bundled LM with its nodes repeated to 20 000 (each tensor read by ~36 copies)', () => {
    const small = analyzeModel(bundled('kjv-charlm'));
    const big = analyzeModel(repeatNodes(bundled('kjv-charlm'), 20_000));
    // The same weights are multiplied again and again: the same 37 layers, with the same roles.
    expect(big.linears.map((l) => [l.name, l.role])).toEqual(small.linears.map((l) => [l.name, l.role]));
    expect(big.attention.length).toBeGreaterThanOrEqual(6 * Math.floor(20_000 / 553));
  }, LIMIT_MS);

  it('a 20 000-node ViT made of renamed copies finds every copy', () => {
    const source = bundled('digits-vit');
    const copies = Math.floor(20_000 / source.graph!.node!.length);
    const analysis = analyzeModel(renamedCopies(source, 20_000));
    expect(analysis.attention.length).toBeGreaterThanOrEqual(4 * copies);
    expect(analysis.linears.length).toBeGreaterThanOrEqual(26 * copies);
  }, LIMIT_MS);

  it('a node with 200 000 outputs after the Softmax and one with 200 000 inputs before it', () => {
    const analysis = analyzeModel(wideAttention(200_000));
    expect(analysis.inputs).toHaveLength(200_001);
    expect(analysis.outputs).toHaveLength(200_001);
    expect(analysis.linears).toHaveLength(4);
  }, LIMIT_MS);

  it('one tensor with 40 000 pointwise readers (the MLP walk visits each once)', () => {
    const analysis = analyzeModel(fanOutMlp(40_000));
    const roles = Object.fromEntries(analysis.linears.map((l) => [l.id, l.role]));
    expect(roles).toMatchObject({ W_up: 'mlp.up', W_down: 'mlp.down' });
  }, LIMIT_MS);

  it('a 200 000-node graph of attention blocks finds every block', () => {
    const block = attentionBlock();
    const copies = Math.ceil(200_000 / block.graph!.node!.length);
    const analysis = analyzeModel(renamedCopies(block, copies * block.graph!.node!.length));
    expect(analysis.attention).toHaveLength(copies);
    expect(analysis.linears).toHaveLength(4 * copies);
    expect(analysis.attention.every((site) => site.heads === 4 && site.q !== null && site.out !== null)).toBe(true);
  }, LIMIT_MS);
});

describe('analysis messages stay one short line', () => {
  it('whatever the length of the names they quote', () => {
    const long = (name: string) => `${name}/${'x'.repeat(98_630)}\n`;
    const block = attentionBlock({ headsShape: [0, 0, 32] }); // heads unknown: a warning quoting the Softmax
    for (const n of block.graph!.node!) n.name = long(n.name ?? '');
    block.graph!.node!.push({ opType: 'Attention', domain: long('com.microsoft'), input: ['x'], output: ['fused'], name: long('fused') });
    const analysis = analyzeModel(block);
    const messages = [...analysis.warnings, ...analysis.unsupported];
    expect(messages.length).toBeGreaterThanOrEqual(2);
    for (const message of messages) {
      expect(message.length).toBeLessThan(400);
      expect(message).not.toContain('\n');
    }
  });
});
