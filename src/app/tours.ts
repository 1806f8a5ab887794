// Guided tours: short sequences of steps, each a sentence or two, a highlighted control or chart
// (a data-testid), and optionally a share link whose model, recipe and tab are applied when the
// step opens. Tours are data built from share links, so a teacher starts one from a URL
// (`#tour=<id>`) and every step's link is a link the page could have been opened with.
import { SHARE_LINK_VERSION, type SharePayload } from '../core/experiments';
import { parseRecipe } from '../core/recipe';

export interface TourStep {
  title: string;
  text: string;
  /** The data-testid of the control or chart the step points at (highlighted when on screen). */
  target: string;
  /** Applied when the step opens: its bundled model, recipe and tab. */
  link?: SharePayload;
  /** The step offers "Run this recipe". */
  run?: boolean;
}

export interface Tour {
  id: string;
  title: string;
  steps: TourStep[];
}

type BundledId = 'kjv-charlm' | 'digits-vit';

/**
 * A link to a bundled model with a recipe (read by the strict recipe reader, so a typo here fails
 * at load and in the tours test). One-pass calibration: the lab's fast default, so a step runs in
 * seconds on the bundled models.
 */
function link(model: BundledId, stages: unknown[], tab = 'overview', calibration: object = { samples: 32, mode: 'one-pass' }): SharePayload {
  const recipe = parseRecipe({ version: 2, seed: 0, calibration, stages });
  return { v: SHARE_LINK_VERSION, model: { kind: 'bundled', id: model }, recipe, view: { tab } };
}

const magnitude50 = [{ kind: 'prune', method: 'magnitude', magnitudeScope: 'layer', pattern: 'unstructured', sparsity: 0.5 }];
const sparsegpt50 = [{ kind: 'prune', method: 'sparsegpt', pattern: 'unstructured', sparsity: 0.5 }];
const magnitude24 = [{ kind: 'prune', method: 'magnitude', magnitudeScope: 'layer', pattern: '2:4' }];
const sparsegpt24 = [{ kind: 'prune', method: 'sparsegpt', pattern: '2:4' }];
const quantize3 = (method: 'rtn' | 'gptq') => [{ kind: 'quantize', method, bits: 3, granularity: 'row', export: 'simulated' }];
/** Whole heads and MLP neurons removed to a predicted 1.5× (ZipLM; the latency table is measured on the page's backend). */
const structured15 = [{ kind: 'structured', method: 'ziplm', remove: 'both', target: { speedup: 1.5 } }];
const gptq4packed = [{ kind: 'quantize', method: 'gptq', bits: 4, granularity: 'group', groupSize: 32, export: 'packed' }];
/** ACT as in recipes/act-lm.json and act-vit.json: sinks by τ, heads chosen by the guarded search. */
const act = (samples: number) => [{ kind: 'attention', method: 'act', beta: 0.4, sink: { kind: 'tau', tau: 0.1 }, heads: 'search', skipLayers: 'reference', search: { samples, guard: 'interval' } }];

export const tours: Tour[] = [
  {
    id: 'sparsity-50',
    title: 'What 50 % sparsity does to a language model',
    steps: [
      { title: 'The dense baseline', text: 'The bundled character model, measured on held-out King James text. Perplexity is how many characters it is, on average, choosing between: lower is better.', target: 'result-panel', link: link('kjv-charlm', magnitude50) },
      { title: 'Zero half the weights', text: 'The builder now holds magnitude pruning at 50 %: in every linear layer, the half of the weights closest to zero is set to zero. No data is needed.', target: 'cli-command', run: true },
      { title: 'What it cost', text: 'The run beside the dense model: perplexity rises (3.493 → 3.783 with sequential calibration in docs/pruning-quality.md). The file is the same size: zeros stored densely take as many bytes as any weight.', target: 'run-comparison' },
      { title: 'Where the zeros are', text: 'Each cell is a weight, kept or pruned. Unstructured pruning scatters the zeros with no pattern, which is why hardware cannot easily skip them.', target: 'mask-view', link: link('kjv-charlm', magnitude50, 'masks') },
      { title: 'Listen to it', text: 'Generate text from the dense and the pruned model from the same prompt, and compare what each writes.', target: 'try-it', link: link('kjv-charlm', magnitude50, 'try') },
      { title: 'The same on the vision model', text: 'Now the digits ViT with the same recipe: top-1 accuracy instead of perplexity, higher is better.', target: 'result-panel', link: link('digits-vit', magnitude50), run: true },
    ],
  },
  {
    id: 'two-four',
    title: '2:4 sparsity, the pattern GPUs accelerate',
    steps: [
      { title: 'Two of every four', text: 'N:M sparsity keeps N weights in every group of M consecutive inputs. 2:4 is the pattern NVIDIA’s sparse tensor cores run at up to twice the speed; the builder now holds it.', target: 'cli-command', link: link('kjv-charlm', magnitude24), run: true },
      { title: 'The cost of a rigid pattern', text: 'Still 50 % zeros, but each group must lose exactly two, even where all four matter: magnitude 2:4 costs far more than unstructured 50 % (5.275 against 3.783 perplexity in docs/pruning-quality.md).', target: 'run-comparison' },
      { title: 'See the pattern', text: 'In the mask, every window of four columns keeps exactly two: the regularity a GPU can exploit.', target: 'mask-view', link: link('kjv-charlm', magnitude24, 'masks') },
      { title: 'A smarter choice of which two', text: 'SparseGPT picks the two to keep using calibration data and updates the survivors to make up for the rest (3.808 at 2:4 in docs/pruning-quality.md). Run it and compare in the run list.', target: 'run-list', link: link('kjv-charlm', sparsegpt24), run: true },
      { title: '2:4 on the vision model', text: 'The same pattern on the digits ViT.', target: 'result-panel', link: link('digits-vit', magnitude24), run: true },
    ],
  },
  {
    id: 'sparsegpt-vs-magnitude',
    title: 'Why SparseGPT beats magnitude pruning',
    steps: [
      { title: 'Magnitude first', text: 'Magnitude pruning keeps the largest weights and ignores what the layer’s inputs look like. Run it at 50 % as the baseline.', target: 'cli-command', link: link('kjv-charlm', magnitude50), run: true },
      { title: 'SparseGPT at the same sparsity', text: 'SparseGPT measures the layer’s inputs on calibration text (the Hessian H = 2XXᵀ) and, as it removes each weight, adjusts the remaining ones to cancel the error. Same 50 %.', target: 'cli-command', link: link('kjv-charlm', sparsegpt50), run: true },
      { title: 'Side by side', text: 'The run list holds both runs at the same number of zeros; in docs/pruning-quality.md SparseGPT lands at 3.630 perplexity against magnitude’s 3.783 (dense 3.493).', target: 'run-list' },
      { title: 'Layer by layer', text: 'The relative output error per layer shows where the update helps most.', target: 'run-layers', link: link('kjv-charlm', sparsegpt50, 'layers') },
    ],
  },
  {
    id: 'gptq-vs-rtn',
    title: 'GPTQ vs round-to-nearest at 3 bits',
    steps: [
      { title: 'Round to nearest', text: 'Each weight row gets a 3-bit grid (8 levels) and every weight is rounded to its nearest level. Simple, and at 3 bits, costly.', target: 'cli-command', link: link('kjv-charlm', quantize3('rtn')), run: true },
      { title: 'GPTQ', text: 'GPTQ rounds one column at a time and pushes each rounding error onto the columns not yet rounded, weighted by the calibration Hessian. Same grid, same bits.', target: 'cli-command', link: link('kjv-charlm', quantize3('gptq')), run: true },
      { title: 'Compare', text: 'Both runs are in the list: same grid, same bits per weight, a different perplexity (3.800 for round-to-nearest against 3.592 for GPTQ in docs/quantization-quality.md; dense 3.493).', target: 'run-list' },
      { title: 'Weights against the grid', text: 'The histogram shows a layer’s weights and the levels they were rounded to.', target: 'quant-histogram', link: link('kjv-charlm', quantize3('gptq'), 'quant') },
      { title: 'On the vision model', text: 'GPTQ at 3 bits on the digits ViT.', target: 'result-panel', link: link('digits-vit', quantize3('gptq')), run: true },
    ],
  },
  {
    id: 'attention-sinks',
    title: 'Attention sinks and ACT',
    steps: [
      { title: 'Where attention goes', text: 'Many heads send most of their attention to the first token whatever the input: an attention sink, a place to park attention the head does not need.', target: 'attention-view', link: link('kjv-charlm', act(64), 'attention', { samples: 32, mode: 'sequential' }) },
      { title: 'The ACT stage', text: 'ACT (attention calibration) finds sink tokens by a threshold τ and moves part of their attention (β) back to the other tokens, in the heads where a guarded search says it helps.', target: 'attention-stage', run: true },
      { title: 'What the search chose', text: 'The head search lists the sets it scored and the heads it kept, with the interval that guarded each step.', target: 'head-search' },
      { title: 'The vision model', text: 'The ViT has sinks too (often the class token); the same stage with its own search.', target: 'attention-view', link: link('digits-vit', act(128), 'attention', { samples: 32, mode: 'sequential' }), run: true },
    ],
  },
  {
    id: 'smaller-not-faster',
    title: 'Why smaller is not always faster',
    steps: [
      { title: 'Half the weights, zero', text: 'Unstructured 50 %: half of every matrix is zeros, stored densely. Run it and read the measured latency row: ONNX Runtime multiplies the zeros like any other number, so the time per token stays at the dense model’s (×1.0, give or take noise), and so does the file.', target: 'latency-row', link: link('kjv-charlm', magnitude50), run: true },
      { title: '2:4, the GPU pattern', text: 'Two of every four weights zero: NVIDIA’s sparse tensor cores run this up to twice as fast, but no browser runtime (WASM or WebGPU) has a 2:4 kernel. Same measured latency as dense.', target: 'latency-row', link: link('kjv-charlm', magnitude24), run: true },
      { title: 'Remove whole heads and neurons', text: 'Structured pruning deletes whole attention heads and MLP neurons, to a 1.5× speedup predicted from a latency table measured on this backend. The matrices are smaller, so every runtime does less work: the latency row shows the measured speedup beside the predicted one, and the file shrinks.', target: 'latency-row', link: link('kjv-charlm', structured15), run: true },
      { title: 'What was removed', text: 'Blocks × heads with the removed ones greyed, and the neurons each block kept.', target: 'shape-chart', link: link('kjv-charlm', structured15, 'layers') },
      { title: '4 bits per weight', text: 'GPTQ at 4 bits packed as MatMulNBits: the file is several times smaller, yet the time per token barely moves on a model this small — the kernel unpacks the codes as it multiplies; 4-bit pays off where memory bandwidth is the limit (large models), not here.', target: 'latency-row', link: link('kjv-charlm', gptq4packed), run: true },
      { title: 'Size against speed', text: 'The trade-off chart with measured latency per token on its x-axis: the runs that are small are not the runs that are fast. Switch the axis to file size to see the other picture.', target: 'tradeoff-axis', link: link('kjv-charlm', structured15, 'tradeoff') },
    ],
  },
];

export function findTour(id: string): Tour | undefined {
  return tours.find((t) => t.id === id);
}
