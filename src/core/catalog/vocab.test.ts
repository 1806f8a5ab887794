import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { CharTokenizer, parseVocab, VocabError } from './vocab';

const bundled = parseVocab(JSON.parse(readFileSync('public/models/kjv-charlm/vocab.json', 'utf8')), 'kjv-charlm/vocab.json');

describe('parseVocab', () => {
  test('reads the bundled LM vocabulary', () => {
    expect(bundled.chars.length).toBe(63);
    expect(bundled.chars[0]).toBe('\n');
  });

  test.each([
    [null, 'a vocabulary must be a JSON object'],
    [{ kind: 'bpe', chars: ['a'] }, 'only "char" vocabularies'],
    [{ kind: 'char', chars: [] }, 'chars: must be a non-empty array'],
    [{ kind: 'char', chars: ['a', 'bc'] }, 'chars[1]: must be a single character'],
    [{ kind: 'char', chars: ['a', 7] }, 'chars[1]: must be a single character'],
    [{ kind: 'char', chars: ['a', 'b', 'a'] }, 'chars[2]: "a" appears twice'],
  ])('refuses %j', (json, message) => {
    expect(() => parseVocab(json, 'v.json')).toThrow(VocabError);
    expect(() => parseVocab(json, 'v.json')).toThrow(message);
  });

  test('a character outside the BMP counts as one character', () => {
    expect(parseVocab({ kind: 'char', chars: ['😀', 'a'] }, 'v').chars).toEqual(['😀', 'a']);
  });
});

describe('CharTokenizer', () => {
  const tokenizer = new CharTokenizer(bundled);

  test('encodes to the ids the training script assigned and decodes back', () => {
    const ids = tokenizer.encode('In the beginning');
    expect(ids.slice(0, 3)).toEqual([bundled.chars.indexOf('I'), bundled.chars.indexOf('n'), bundled.chars.indexOf(' ')]);
    expect(tokenizer.decode(ids)).toBe('In the beginning');
  });

  test('refuses unknown characters, naming each once with its code point', () => {
    expect(tokenizer.unknownCharacters('Xé\tX é')).toEqual(['X', 'é', '\t']);
    expect(() => tokenizer.encode('Xé\tX')).toThrow('has no characters "X" (U+0058), "é" (U+00E9), "\\t" (U+0009); it knows only 63 characters');
    expect(() => tokenizer.encode('X')).toThrow('has no character "X"');
  });

  test('decode refuses an id outside the vocabulary', () => {
    expect(() => tokenizer.decode([0, 63])).toThrow('token id 63 is outside the vocabulary (0..62)');
  });
});
