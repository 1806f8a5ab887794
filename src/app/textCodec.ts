// Text ↔ token ids for the teaching views, whichever tokenizer the model has: the bundled LM's
// character vocabulary (vocab.json, on this thread) or a dropped folder's tokenizer.json (in the
// model worker, where tokenizers.js holds it). Async, so both look the same to a view.
import { CharTokenizer, type CharVocab } from '../core/catalog/vocab';
import type { ModelWorkerService } from '../services/modelWorker';

export interface TextCodec {
  /** What one token is, in the page's words: "character" or "token". */
  unit: 'character' | 'token';
  /** Why a prompt cannot be encoded, known without encoding it (characters outside a char vocabulary). */
  promptProblems(text: string): string[];
  encode(text: string): Promise<number[]>;
  decode(ids: readonly number[]): Promise<string>;
}

export function charCodec(vocab: CharVocab): TextCodec {
  const tokenizer = new CharTokenizer(vocab);
  return {
    unit: 'character',
    promptProblems(text) {
      const unknown = tokenizer.unknownCharacters(text);
      return unknown.length > 0 ? [`The model never saw ${unknown.map((c) => JSON.stringify(c)).join(', ')}; it knows only ${tokenizer.size} characters.`] : [];
    },
    encode: async (text) => tokenizer.encode(text),
    decode: async (ids) => tokenizer.decode(ids),
  };
}

/** The loaded folder's tokenizer, which lives in the model worker. */
export function folderCodec(worker: Pick<ModelWorkerService, 'encodeText' | 'decodeIds'>): TextCodec {
  return {
    unit: 'token',
    promptProblems: () => [],
    encode: (text) => worker.encodeText({ text }).done,
    // tokenizers.js refuses an empty id list; no tokens spell no text.
    decode: (ids) => (ids.length === 0 ? Promise.resolve('') : worker.decodeIds({ ids: [...ids] }).done),
  };
}
