// The files of a generated GPT-2-shaped model folder, in the formats of public/models/kjv-charlm:
// model.json (src/core/catalog/modelCard.ts), model.onnx, calib.json and eval.json
// (src/core/eval/datasets.ts). The weights are random, so the token sets are seeded uniform ids:
// they exercise calibration and evaluation at full size; they are not text.
import type { ModelCard } from '../../src/core/catalog/modelCard.ts';
import { deriveSeed, mulberry32 } from '../../src/core/calibrate/random.ts';
import type { LmTokenDataset } from '../../src/core/eval/datasets.ts';
import { writeModel } from '../../src/core/onnx/index.ts';
import { buildGpt2Model, gpt2ParameterCount, type Gpt2Shape } from './gpt2Model.ts';

export interface Gpt2DirOptions {
  shape: Gpt2Shape;
  seed: number;
  /** Tokens per calibration/evaluation sequence (≤ context). */
  seqLen: number;
  calibSequences: number;
  evalSequences: number;
}

export interface Gpt2Files {
  /** The card, with the kjv-charlm card's `onnx` summary (not part of ModelCard's typed fields). */
  card: ModelCard & { onnx: Record<string, unknown> };
  onnx: Uint8Array;
  calib: LmTokenDataset & { source: Record<string, unknown> };
  eval: LmTokenDataset & { source: Record<string, unknown> };
}

function tokenSet(vocab: number, seqLen: number, count: number, seed: number, split: string) {
  const random = mulberry32(seed);
  const sequences = Array.from({ length: count }, () => Array.from({ length: seqLen + 1 }, () => Math.floor(random() * vocab)));
  return {
    kind: 'lm-tokens' as const,
    seqLen,
    source: { text: `uniform random token ids in [0, ${vocab}) from mulberry32(${seed})`, split, layout: 'seqLen + 1 ids per sequence (inputs, then shifted targets)' },
    sequences,
  };
}

export function buildGpt2Files(options: Gpt2DirOptions): Gpt2Files {
  const { shape, seed, seqLen } = options;
  if (seqLen > shape.context) throw new Error(`seqLen ${seqLen} exceeds the context of ${shape.context} positions`);
  const model = buildGpt2Model(shape, seed);
  const onnx = writeModel(model);
  const calib = tokenSet(shape.vocab, seqLen, options.calibSequences, deriveSeed(seed, 1), 'calib');
  const evalSet = tokenSet(shape.vocab, seqLen, options.evalSequences, deriveSeed(seed, 2), 'eval');
  const id = `gpt2-random-${shape.blocks}x${shape.dModel}-v${shape.vocab}-s${seed}`;
  const card: Gpt2Files['card'] = {
    id,
    name: `GPT-2-shaped random model (${shape.blocks} blocks)`,
    task: 'causal-lm',
    description: "GPT-2 small's shapes with seeded random weights (N(0, 0.02), residual projections scaled by 1/sqrt(2·blocks), as GPT-2 initialises): the scale test of the lab. Its perplexity is that of chance, about the vocabulary size.",
    parameters: gpt2ParameterCount(shape),
    architecture: {
      layers: shape.blocks,
      dModel: shape.dModel,
      heads: shape.heads,
      headDim: shape.dModel / shape.heads,
      mlp: 4 * shape.dModel,
      activation: 'gelu_new (tanh approximation, written out)',
      norm: 'pre-LayerNorm',
      positions: 'learned',
      context: shape.context,
      vocabSize: shape.vocab,
      tiedEmbeddings: true,
      causalMask: 'Where on a tril buffer sliced to [T,T]',
    },
    onnx: { opset: 17, input: `input_ids int64 [batch, seq<=${shape.context}]`, output: 'logits float32 [batch, seq, vocabSize]', bytes: onnx.byteLength },
    data: { source: 'none: seeded uniform random token ids (see calib.json/eval.json "source")', licence: 'generated' },
    files: { model: 'model.onnx', eval: 'eval.json', calib: 'calib.json' },
    training: { command: `npm run gen:gpt2 -- --blocks ${shape.blocks} --vocab ${shape.vocab} --context ${shape.context} --seed ${seed}`, seed, steps: 0 },
    denseMetrics: {},
  };
  return { card, onnx, calib, eval: evalSet };
}
