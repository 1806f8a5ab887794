// Which lookup tables are token and which position embeddings, on hand-built graphs.
import { describe, expect, it } from 'vitest';
import { DataType } from '../onnx/types.ts';
import { analyzeModel } from './analyze.ts';
import { floatInit, model, node, tensorValue } from './testGraphs.ts';

/** x = wte[input_ids] + wpe[positions], where the positions are the given graph input (after a Cast when asked). */
function twoTables(positionInput: string, cast: boolean) {
  const positions = cast ? 'positions_i32' : positionInput;
  return analyzeModel(
    model({
      nodes: [
        ...(cast ? [node('Cast', [positionInput], ['positions_i32'], { attrs: { to: DataType.INT32 } })] : []),
        node('Gather', ['wte', 'input_ids'], ['tok'], { name: 'wte_gather' }),
        node('Gather', ['wpe', positions], ['pos'], { name: 'wpe_gather' }),
        node('Add', ['tok', 'pos'], ['y']),
      ],
      initializers: [floatInit('wte', [50, 8]), floatInit('wpe', [16, 8])],
      inputs: [tensorValue('input_ids', DataType.INT64, ['batch', 'seq']), tensorValue(positionInput, DataType.INT64, ['batch', 'seq'])],
      outputs: [tensorValue('y', DataType.FLOAT, ['batch', 'seq', 8])],
    }),
  ).embeddings.map((e) => [e.weight, e.kind]);
}

describe('embedding kinds', () => {
  it('a table gathered by the position_ids input (Optimum exports with a KV cache) is a position embedding', () => {
    expect(twoTables('position_ids', false)).toEqual([['wte', 'token'], ['wpe', 'position']]);
    expect(twoTables('position_ids', true)).toEqual([['wte', 'token'], ['wpe', 'position']]);
  });

  it('a table gathered by any other id input (token types) stays a token table', () => {
    expect(twoTables('token_type_ids', false)).toEqual([['wte', 'token'], ['wpe', 'token']]);
  });
});
