// A bundled model's vocabulary (vocab.json, named by the card's files.vocab) and the character
// tokenizer it defines: token id i is the character chars[i], as the training script wrote it
// (scripts/train/kjv_charlm.py: chars = sorted(set(text))).

export interface CharVocab {
  kind: 'char';
  /** chars[id] is the character of token `id`; each entry is exactly one character. */
  chars: string[];
}

export class VocabError extends Error {
  override name = 'VocabError';
}

export function parseVocab(json: unknown, where: string): CharVocab {
  const v = json as { kind?: unknown; chars?: unknown } | null;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new VocabError(`${where}: a vocabulary must be a JSON object`);
  if (v.kind !== 'char') throw new VocabError(`${where}: kind: only "char" vocabularies are supported, not ${JSON.stringify(v.kind)}`);
  if (!Array.isArray(v.chars) || v.chars.length === 0) throw new VocabError(`${where}: chars: must be a non-empty array of characters`);
  const seen = new Set<string>();
  v.chars.forEach((c, i) => {
    if (typeof c !== 'string' || [...c].length !== 1) throw new VocabError(`${where}: chars[${i}]: must be a single character, not ${JSON.stringify(c)}`);
    if (seen.has(c)) throw new VocabError(`${where}: chars[${i}]: ${JSON.stringify(c)} appears twice`);
    seen.add(c);
  });
  return { kind: 'char', chars: v.chars as string[] };
}

/** A character in a message: JSON-escaped (so a tab or a newline is visible) with its code point. */
function describeChar(c: string): string {
  return `${JSON.stringify(c)} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`;
}

/**
 * Text ↔ token ids. Encoding refuses characters the model never saw, rather than dropping or
 * replacing them: a silently changed prompt would make the dense/compressed comparison lie about
 * what was asked. `unknownCharacters` lets a form say so while the user types.
 */
export class CharTokenizer {
  private readonly ids: Map<string, number>;

  constructor(readonly vocab: CharVocab) {
    this.ids = new Map(vocab.chars.map((c, i) => [c, i]));
  }

  get size(): number {
    return this.vocab.chars.length;
  }

  /** The distinct characters of `text` outside the vocabulary, in order of first appearance. */
  unknownCharacters(text: string): string[] {
    return [...new Set([...text].filter((c) => !this.ids.has(c)))];
  }

  encode(text: string): number[] {
    const unknown = this.unknownCharacters(text);
    if (unknown.length > 0)
      throw new VocabError(`The model's vocabulary has no ${unknown.length === 1 ? 'character' : 'characters'} ${unknown.map(describeChar).join(', ')}; it knows only ${this.size} characters`);
    return [...text].map((c) => this.ids.get(c)!);
  }

  decode(ids: readonly number[]): string {
    return ids
      .map((id) => {
        const c = this.vocab.chars[id];
        if (c === undefined) throw new VocabError(`token id ${id} is outside the vocabulary (0..${this.size - 1})`);
        return c;
      })
      .join('');
  }
}
