// What every number and choice on the page means, in one sentence each, with the direction that is
// better and the docs page that explains it at length (docs/*.md, served with the app under docs/).
import type { AllocationKind, MagnitudeScope, PruneStage } from '../core/recipe';

export type Better = 'lower' | 'higher' | 'neither';

export interface MetricMeaning {
  label: string;
  better: Better;
  explain: string;
  /** 'ratio' values print as percentages, 'count' as integers. */
  kind: 'ratio' | 'plain' | 'count';
}

export const docsBase = `${import.meta.env.BASE_URL}docs/`;
export const docLink = (page: string, anchor?: string) => `${docsBase}${page}.html${anchor ? `#${anchor}` : ''}`;

export const metricMeanings: Record<string, MetricMeaning> = {
  perplexity: {
    label: 'Perplexity',
    better: 'lower',
    kind: 'plain',
    explain: 'How many characters the model is, on average, choosing between at each step: e^(mean negative log-likelihood) on held-out text; 1 would be perfect prediction.',
  },
  bitsPerChar: {
    label: 'Bits per character',
    better: 'lower',
    kind: 'plain',
    explain: 'The same likelihood in bits: how many bits an ideal compressor driven by this model would spend per character of held-out text (log2 of perplexity).',
  },
  top1: {
    label: 'Top-1 accuracy',
    better: 'higher',
    kind: 'ratio',
    explain: 'The share of predictions where the model’s most likely answer is the right one (the next character, or the digit’s class).',
  },
  meanNll: {
    label: 'Mean NLL',
    better: 'lower',
    kind: 'plain',
    explain: 'Mean negative log-likelihood (natural log) of the correct class: how surprised the model is by the right answer, averaged over images.',
  },
  evalTokens: { label: 'Tokens evaluated', better: 'neither', kind: 'count', explain: 'How many next-character predictions the metrics average over.' },
  maskedAccuracy: {
    label: 'Masked-token accuracy',
    better: 'higher',
    kind: 'ratio',
    explain: 'An encoder on your text: about 15 % of each window’s tokens are chosen (BERT’s rule: of them 80 % become [MASK], 10 % a random token, 10 % stay), and this is the share where the model’s most likely token is the original one.',
  },
  maskedNll: { label: 'Masked-LM NLL', better: 'lower', kind: 'plain', explain: 'Mean negative log-likelihood (natural log) of the original token at the chosen positions.' },
  maskedPositions: { label: 'Masked positions scored', better: 'neither', kind: 'count', explain: 'How many chosen positions of your text’s evaluation windows the masked-token metrics average over.' },
  evalSamples: { label: 'Images evaluated', better: 'neither', kind: 'count', explain: 'How many held-out images the metrics average over.' },
};

export const measureMeanings = {
  sparsityByParams: {
    label: 'Sparsity (by parameter count)',
    explain: 'Zero weights divided by all weights of the pruned layers, so big layers count more. This is the headline figure everywhere on the page.',
  },
  sparsityLayerMean: {
    label: 'Per-layer mean of targets',
    explain: 'The average of the per-layer targets the allocation chose, each layer counting once. OWL, TAMP and sensitivity give layers different targets, so this can differ from the parameter-weighted sparsity.',
  },
  relativeError: {
    label: 'Relative error',
    explain: '‖WX − ŴX‖ / ‖WX‖ on the calibration inputs of the layer: how much the layer’s output moved when it was pruned. 0 means unchanged; lower is better. Exact (from the Hessian) for SparseGPT; for Wanda and magnitude, which need no Hessian, an estimate on a seeded sample of input tokens, marked ≈ (hover for how many).',
  },
  fileSize: {
    label: 'File size',
    explain: 'Measured bytes of the ONNX file as written. Pruned weights are stored as zeros in dense tensors, so pruning alone does not shrink the file.',
  },
  sparseEstimate: {
    label: 'Sparse storage (estimate)',
    explain: 'An estimate of the file with the pruned weights in a sparse encoding (values plus positions). No such file is written.',
  },
} as const;

export const methodMeanings: Record<PruneStage['method'], { label: string; explain: string; anchor: string }> = {
  magnitude: { label: 'Magnitude', explain: 'Removes the weights with the smallest absolute value. Needs no data; the baseline every other method is compared with.', anchor: 'magnitude' },
  wanda: { label: 'Wanda', explain: 'Scores each weight by |w| × the norm of its input over calibration data, and removes the lowest per output row. One pass, no weight updates.', anchor: 'wanda' },
  sparsegpt: { label: 'SparseGPT', explain: 'Prunes column by column and updates the remaining weights to compensate, using second-order (Hessian) information from calibration data. Slower, usually more accurate.', anchor: 'sparsegpt' },
};

export const patternMeanings = {
  unstructured: { label: 'Unstructured', explain: 'Any weight may be removed. The most accurate for a given sparsity, but hardware rarely runs it faster.' },
  nm: { label: 'N:M', explain: 'In every group of M consecutive inputs of a row, keep N. 2:4 is what NVIDIA’s sparse tensor cores accelerate; sparsity is fixed at 1 − N/M.' },
  vnm: { label: 'V:N:M (VENOM)', explain: 'Tiles of V rows × M columns share 4 chosen columns, then 2:4 within them: a fixed 1 − 2/M sparsity that sparse GPU kernels run fast at high sparsity.' },
} as const;

export const allocationMeanings: Record<AllocationKind, { label: string; explain: string }> = {
  uniform: { label: 'Uniform', explain: 'Every layer gets the same target sparsity.' },
  owl: { label: 'OWL (outlier-weighted)', explain: 'Layers with more activation outliers keep more weights; the average stays at the target.' },
  tamp: { label: 'TAMP (output diversity)', explain: 'Layers whose outputs are more diverse keep more weights, measured on sampled calibration tokens.' },
  sensitivity: { label: 'Sensitivity (Edge-LLM)', explain: 'Measures how much each layer’s error grows when pruned and gives sensitive layers lower targets.' },
};

export const scopeMeanings: Record<MagnitudeScope, string> = {
  layer: 'each layer',
  row: 'each output row',
  global: 'all layers at once (global)',
};

export const calibrationMeanings = {
  samples: 'How many calibration sequences (or images) feed the statistics. More is steadier and slower.',
  sequential: 'Block by block, as in the papers: each block is calibrated on the outputs of the already-pruned blocks before it.',
  oneShot: 'One pass of the dense model for all layers: faster, slightly less accurate at high sparsity.',
  seed: 'Chooses which calibration samples are drawn; the same seed and recipe give the same weights, bit for bit.',
  computeBackend: 'Where the per-layer pruning jobs and the calibration statistics run. Inference for calibration always runs on ONNX Runtime’s WASM build, so statistics are deterministic.',
  workers: 'Web Workers that run layer jobs in parallel.',
};

/** The arrow and word for a metric's better direction. */
export function betterHint(better: Better): string {
  return better === 'lower' ? '↓ lower is better' : better === 'higher' ? '↑ higher is better' : '';
}

/** −1, 0 or +1: whether moving from `from` to `to` made the metric worse, no change, or better. */
export function changeQuality(better: Better, from: number, to: number): -1 | 0 | 1 {
  if (better === 'neither' || to === from || !Number.isFinite(from) || !Number.isFinite(to)) return 0;
  return (to < from) === (better === 'lower') ? 1 : -1;
}

export const quantMethodMeanings = {
  gptq: { label: 'GPTQ', explain: 'Quantizes one column at a time and updates the remaining weights to cancel the error, using the layer’s Hessian from calibration data. The accurate choice at 3–4 bits.' },
  rtn: { label: 'RTN (round to nearest)', explain: 'Rounds every weight to the nearest level of its group’s grid. Needs no data; the baseline GPTQ is compared with.' },
  awq: { label: 'AWQ (activation-aware)', explain: 'Scales each input channel by its typical activation size to the power α (searched on calibration data) before rounding, so weights that meet large activations keep more precision. Layers that read the same input share one scale; its inverse is folded into the LayerNorm before them, or written as a Mul on their input, so the codes pack as MatMulNBits.' },
  quik: { label: 'QUIK (outlier columns in float)', explain: 'Keeps the input columns whose activations reach the largest values in float and GPTQ-quantizes the rest, sweeping the float columns last so their weights absorb the rounding error. Can also simulate quantizing the other columns’ activations per token (W4A8, W4A4) to show what that costs.' },
  mx: { label: 'Microscaling (MX)', explain: 'OCP MX formats: blocks of 32 weights share a power-of-two scale and each weight is a tiny float (FP4, FP6, FP8) or int8. ONNX Runtime has no kernel for them, so the file stores the dequantized weights (simulated).' },
  binary: { label: 'Binary, 1 bit (simulated)', explain: 'BiBench’s post-training baselines: every weight becomes ±α, its sign times one scale per row (XNOR centres the row first; DoReFa does not; BNN keeps no scale). No fine-tuning, so expect a large loss: it shows where 1 bit lands. ONNX Runtime has no 1-bit kernel: the file stores the ±α floats and the size shown is the analytic 1-bit one.' },
} as const;

/** The binarizers of the quantize stage's 'binary' method (quant/binary.ts). */
export const binarizerMeanings = {
  xnor: { label: 'XNOR: sign(W − mean)·mean|W − mean|', explain: 'BiBench’s XNORLinear: each row centred on its mean, then its sign times the mean absolute deviation.' },
  dorefa: { label: 'DoReFa: sign(W)·mean|W|', explain: 'BiBench’s DoReFaLinear: the sign times the mean absolute weight of the row (of the whole matrix with “the whole matrix”).' },
  bnn: { label: 'BNN: sign(W), no scale', explain: 'BiBench’s BNNLinear: ±1 weights. Without training the output scale is lost; a floor, not a method.' },
} as const;

export const quantMeanings = {
  bits: 'Bits per weight of the integer grid: 2^bits levels. 8 is nearly lossless; 4 is the common choice; 3 and 2 cost accuracy.',
  symmetric: 'A grid centred on zero (no zero point stored), or an asymmetric grid that fits each group’s min and max (a zero point per group).',
  granularity: 'How many weights share one scale: each group of inputs of a row (best), each output row, or the whole matrix.',
  groupSize: 'Inputs per group along a row. Smaller groups fit the weights better and store more scales.',
  mseClip: 'Searches a tighter range for each group that minimises the rounding error (GPTQ’s grid search), instead of min to max.',
  mixed: 'Gives each layer its own width: every layer is quantized alone at each candidate width (3, 4 and 8 bits by default) on the calibration set, its output error measured, and the widths chosen to make the summed error smallest under a target average. After a run, each width can be changed by hand.',
  targetBits: 'The average code bits per weight over the quantized layers, weighted by layer size (scales and zero points not counted, as in Bits). 4.0 spends what uniform 4-bit spends.',
  actOrder: 'GPTQ processes columns with the largest Hessian diagonal first (the most important inputs), which helps at low bits.',
  outlierColumns: 'Input columns kept in float per layer: those whose calibration activations reach the largest magnitude. QUIK keeps 256 of 4096 (1/16).',
  activationBits: 'Simulates quantizing each token’s activations (of the quantized columns) to this many bits before the layer: a fake-quantize in the exported graph, so the evaluation shows its cost. Off keeps activations in float.',
  export: 'Packed writes 4- and 8-bit weights as MatMulNBits, which ONNX Runtime runs and which makes the file smaller. Simulated writes the dequantized floats (same accuracy, same size as dense), for formats no runtime runs. Auto packs where it can.',
} as const;

/** The attention stage (ACT, Yu et al., ICML 2024): docs/attention.md explains each at length. */
export const actMeanings = {
  stage: 'Attention calibration (ACT) changes no weight: it finds “hidden” attention sinks — keys other than a head’s first sink that soak up attention — and gives part of their attention back to the other keys, with standard ONNX ops after the chosen heads’ Softmax. It runs after the weight stages, on the model they left.',
  beta: 'The factor on a hidden sink’s attention: 0.4 (the reference) keeps 40 % of it and spreads the other 60 % over the row’s other keys in proportion to their attention. 1 changes nothing.',
  sinkKind: 'When a key counts as a sink: its attention, averaged over the queries that can see it, is above a fixed τ (the reference’s 0.1), or above α/T, which scales with the sequence length T (the paper’s form).',
  tau: 'The absolute sink threshold, between 0 and 1 (reference 0.1).',
  alpha: 'The relative threshold’s factor: a key is a sink when its mean attention exceeds α/T; α = 1 is the share every key would get under uniform attention.',
  heads: 'Which heads to calibrate. The search scores every candidate head alone on calibration samples, keeps those that improve the NLL, then drops heads one at a time while the set improves without them. Given heads skip the search.',
  headList: 'Heads as block.head, separated by commas: 2.0, 3.1 is block 2 head 0 and block 3 head 1.',
  skipLayers: 'Layers the search never tries. The reference skips the first two and the last layer.',
  samples: 'Calibration samples (the recipe’s seeded draw, its first ones) every candidate set is scored on. Each sample costs one model evaluation per candidate; at most the calibration set’s size.',
  guard: 'When a head counts as an improvement. Noise guard: only when the 95 % paired bootstrap interval of its NLL change lies below 0, so a gain smaller than the samples’ own noise is not taken. None: when the mean NLL is lower at all (the reference’s strict rule, which on a few samples selects noise).',
} as const;
