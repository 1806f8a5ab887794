// The user's text as calibration and evaluation windows, with GPT-2's tokenizer (tokenizers.js on
// the tokenizer.json built from OpenAI's files): windows are whole, disjoint between the sets and
// seeded; bits per byte divide by the bytes the targets spell; .jsonl lines are read by field.
import { describe, expect, test } from 'vitest';
import { gpt2TokenizerJson } from './testing/gpt2Tokenizer';
import { bitsPerByte, jsonlText, splitText, TextDataError } from './textData';
import { loadHfTokenizer } from './tokenizer';

const tokenizer = loadHfTokenizer(gpt2TokenizerJson());
const genesis = 'In the beginning God created the heaven and the earth. And the earth was without form, and void; and darkness was upon the face of the deep. '.repeat(12);

describe('splitText', () => {
  test('whole windows of seqLen + 1 tokens, dealt disjointly and reproducibly', () => {
    const split = splitText(genesis, tokenizer, { seqLen: 31, seed: 3 });
    const ids = tokenizer.encode(genesis);
    const count = Math.floor(ids.length / 32);
    expect(split.tokens).toBe(ids.length);
    expect(split.leftOver).toBe(ids.length - count * 32);
    expect([...split.calibWindows, ...split.evalWindows].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(split.calibWindows.filter((w) => split.evalWindows.includes(w))).toEqual([]);
    expect(split.calib.sequences.length).toBe(Math.round(count / 2));
    for (const [k, w] of split.evalWindows.entries()) expect(split.eval.sequences[k]).toEqual(ids.slice(w * 32, (w + 1) * 32));
    expect(splitText(genesis, tokenizer, { seqLen: 31, seed: 3 })).toEqual(split);
    expect(splitText(genesis, tokenizer, { seqLen: 31, seed: 4 }).calibWindows).not.toEqual(split.calibWindows);
  });

  test('target bytes are the UTF-8 bytes the targets spell; bits per byte follows', () => {
    const text = 'naïve café — Zürich. '.repeat(30);
    const split = splitText(text, tokenizer, { seqLen: 15, calibShare: 0.25 });
    for (const [k, bytes] of split.evalTargetBytes.entries()) expect(bytes).toBe(new TextEncoder().encode(tokenizer.decode(split.eval.sequences[k].slice(1))).byteLength);
    expect(bitsPerByte(Math.LN2 * 1000, [400, 600])).toBeCloseTo(1, 12);
  });

  test('too little text, or bad options, is one sentence', () => {
    expect(() => splitText('Hello world', tokenizer, { seqLen: 31 })).toThrow(/the text gives 2 tokens: at least 64 are needed/);
    expect(() => splitText(genesis, tokenizer, { seqLen: 1 })).toThrow(TextDataError);
    expect(() => splitText(genesis, tokenizer, { seqLen: 8, calibShare: 1 })).toThrow(/calibration share must lie in \(0, 1\)/);
  });
});

describe('jsonlText', () => {
  test('the text field of every line, joined by blank lines; a bad line is named', () => {
    expect(jsonlText('{"text": "first"}\n\n{"text": "second", "id": 2}\n', 'data.jsonl')).toBe('first\n\nsecond');
    expect(() => jsonlText('{"text": "a"}\nnot json', 'data.jsonl')).toThrow('data.jsonl: line 2 is not JSON');
    expect(() => jsonlText('{"body": "a"}', 'data.jsonl')).toThrow('data.jsonl: line 1: text: required, a string');
    expect(() => jsonlText('\n\n', 'empty.jsonl')).toThrow('empty.jsonl: no line with a "text" field');
  });
});
