// A dropped Hugging Face export folder (or several files picked at once), sorted into what the
// lab uses: the ONNX graph to open, its external-data files, and the JSON files beside it —
// config.json, tokenizer.json, tokenizer_config.json, generation_config.json,
// preprocessor_config.json. Missing pieces are named with what they cost, never guessed.
//
// Layouts met in practice:
//   Optimum export:         model.onnx (+ model.onnx_data), config.json, tokenizer.json, …
//   transformers.js repo:   config.json, tokenizer*.json at the root; onnx/model.onnx,
//                           onnx/model_fp16.onnx, onnx/model_q4.onnx, onnx/model_quantized.onnx, …
//   older decoder exports:  decoder_model_merged.onnx (KV cache with use_cache_branch),
//                           decoder_model.onnx, decoder_with_past_model.onnx
// Only names and sizes are read here: the graph and the JSON are parsed by their own readers.

export interface FolderFile {
  /** Path inside the dropped folder ("smollm/onnx/model.onnx"), or the bare name of a picked file. */
  path: string;
  size: number;
}

export type FolderPiece = 'config' | 'tokenizer' | 'tokenizerConfig' | 'generationConfig' | 'preprocessorConfig';

const PIECE_NAMES: Record<FolderPiece, string> = {
  config: 'config.json',
  tokenizer: 'tokenizer.json',
  tokenizerConfig: 'tokenizer_config.json',
  generationConfig: 'generation_config.json',
  preprocessorConfig: 'preprocessor_config.json',
};

/**
 * Which graph to open when a folder holds several, best first: the full-precision single graph,
 * then the merged KV-cache decoder, then the plain decoder, then the reduced-precision and
 * quantized variants a transformers.js repository ships (opened only when nothing better is there:
 * compressing an already-compressed graph is allowed, but the lab says so).
 */
export const MODEL_PREFERENCE: readonly string[] = [
  'model.onnx',
  'decoder_model_merged.onnx',
  'decoder_model.onnx',
  'model_fp16.onnx',
  'decoder_model_merged_fp16.onnx',
  'model_quantized.onnx',
  'decoder_model_merged_quantized.onnx',
  'model_q4.onnx',
  'model_q4f16.onnx',
  'model_int8.onnx',
  'model_uint8.onnx',
  'model_bnb4.onnx',
];

/** Graphs of a seq2seq export: the lab compresses decoder-only, encoder-only and ViT models. */
const SEQ2SEQ = /^(encoder_model|decoder_with_past_model)(_[a-z0-9]+)?\.onnx$/;

export interface FolderPlan {
  model: FolderFile;
  /** The other graphs in the folder, not opened. */
  otherModels: string[];
  /** Files that may hold the model's external data (the graph names the ones it needs). */
  externalData: FolderFile[];
  pieces: Partial<Record<FolderPiece, FolderFile>>;
  /** One sentence per missing piece: what it is, and what cannot be done without it. */
  missing: string[];
  /** Facts worth a line: a quantized graph chosen, other graphs left aside, files not used. */
  notes: string[];
}

const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);
const dirName = (path: string) => (path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '');
const isExternalData = (name: string) => /\.onnx[._]data$/i.test(name) || /\.onnx_data_\d+$/i.test(name) || /^model\.data$/i.test(name);

/** The folder's files sorted into a plan, or one sentence on why no model can be opened from them. */
export function planFolder(files: readonly FolderFile[]): { ok: true; plan: FolderPlan } | { ok: false; message: string } {
  const graphs = files.filter((f) => baseName(f.path).toLowerCase().endsWith('.onnx'));
  if (graphs.length === 0) {
    const listed = files.slice(0, 6).map((f) => baseName(f.path)).join(', ');
    return { ok: false, message: `No .onnx model among the ${files.length} file(s) dropped (${listed}${files.length > 6 ? ', …' : ''}): drop the export folder, or its model.onnx with the files beside it.` };
  }
  const rank = (f: FolderFile) => {
    const i = MODEL_PREFERENCE.indexOf(baseName(f.path).toLowerCase());
    return i < 0 ? MODEL_PREFERENCE.length : i;
  };
  const candidates = graphs.filter((f) => !SEQ2SEQ.test(baseName(f.path).toLowerCase()));
  if (candidates.length === 0) {
    return { ok: false, message: `Only seq2seq graphs here (${graphs.map((f) => baseName(f.path)).join(', ')}): the lab compresses decoder-only and encoder-only models and ViTs, not encoder–decoder exports.` };
  }
  const model = [...candidates].sort((a, b) => rank(a) - rank(b) || a.path.length - b.path.length || (a.path < b.path ? -1 : 1))[0];
  const otherModels = graphs.filter((f) => f !== model).map((f) => f.path);
  const modelDir = dirName(model.path);
  // The JSON pieces sit beside the graph, or one folder up (a transformers.js repository's onnx/).
  const parentDir = dirName(modelDir);
  const piece = (name: string) => files.find((f) => f.path === (modelDir ? `${modelDir}/${name}` : name)) ?? (modelDir ? files.find((f) => f.path === (parentDir ? `${parentDir}/${name}` : name)) : undefined);
  const pieces: Partial<Record<FolderPiece, FolderFile>> = {};
  for (const [key, name] of Object.entries(PIECE_NAMES) as [FolderPiece, string][]) {
    const found = piece(name);
    if (found) pieces[key] = found;
  }
  const externalData = files.filter((f) => dirName(f.path) === modelDir && isExternalData(baseName(f.path)));

  const missing: string[] = [];
  if (!pieces.config) missing.push('no config.json: the family is recognised from the graph alone, and a downloaded folder will not carry one');
  const vision = pieces.preprocessorConfig !== undefined;
  if (!pieces.tokenizer && !vision) missing.push('no tokenizer.json: you can still compress the weights, but not evaluate on text or generate');
  if (pieces.tokenizer && !pieces.tokenizerConfig) missing.push('no tokenizer_config.json: special tokens (beginning and end of text) come from tokenizer.json alone');

  const notes: string[] = [];
  if (rank(model) >= MODEL_PREFERENCE.indexOf('model_fp16.onnx')) notes.push(`${baseName(model.path)} is a reduced-precision or quantized graph: compressing it again compounds the error; a full-precision model.onnx would be better`);
  if (otherModels.length > 0) notes.push(`opened ${baseName(model.path)}; left aside ${otherModels.length} other graph(s): ${otherModels.map(baseName).join(', ')}`);
  return { ok: true, plan: { model, otherModels, externalData, pieces, missing, notes } };
}
