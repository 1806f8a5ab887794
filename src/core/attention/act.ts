// ACT, the attention calibration of Yu et al. 2024 (reference GATECH-EIC/ACT,
// models/llama_modelling_aug.py atten_process_eval): an edit of one post-softmax attention map
// A (T × T, row = query, column = key) of a selected head, per input. Plain float64 CPU code:
// the reference for actGraph.ts's ONNX rewrite, and checked itself against
// fixtures/act_fixture.json (made by fixtures/make_act_fixture.py from the reference's code).

/** Sink threshold: the reference's absolute τ (THRES = 0.1), or the paper's α/T form. */
export type SinkThreshold = { kind: 'absolute'; tau: number } | { kind: 'relative'; alpha: number };

export interface ActParams {
  threshold: SinkThreshold;
  /** Factor applied to the attention of the edited sinks (reference BETA = 0.4). */
  beta: number;
}

/** The reference's defaults (scripts/calibration.sh: BETA=0.4, THRES=0.1). */
export const ACT_REFERENCE_PARAMS: ActParams = { threshold: { kind: 'absolute', tau: 0.1 }, beta: 0.4 };

export function thresholdValue(threshold: SinkThreshold, tokens: number): number {
  return threshold.kind === 'absolute' ? threshold.tau : threshold.alpha / tokens;
}

/**
 * Sink score of every key: the mean attention it receives from the queries that see it, i.e.
 * its column sum over T − j queries for a causal map (the reference's arange(T, 0, -1)), over T
 * otherwise. `map` is one head, [query][key] row-major.
 */
export function sinkScores(map: ArrayLike<number>, tokens: number, causal: boolean, offset = 0): Float64Array {
  const scores = new Float64Array(tokens);
  for (let i = 0; i < tokens; i++) for (let j = 0; j < tokens; j++) scores[j] += map[offset + i * tokens + j];
  for (let j = 0; j < tokens; j++) scores[j] /= causal ? tokens - j : tokens;
  return scores;
}

export interface HeadSinks {
  /** Keys whose score exceeds the threshold, ascending. */
  sinks: number[];
  /** The sinks ACT edits: all but the first (the reference's indices[1:]). */
  edited: number[];
}

export function findSinks(scores: ArrayLike<number>, threshold: number): HeadSinks {
  const sinks: number[] = [];
  for (let j = 0; j < scores.length; j++) if (scores[j] > threshold) sinks.push(j);
  return { sinks, edited: sinks.slice(1) };
}

/**
 * The ACT edit of one head's map (T × T), as atten_process_eval does it, in float64:
 *   r_i = (1 − β)·Σ_{j∈S} A_ij (before scaling); A_ij ← β·A_ij for j ∈ S;
 *   A_ij += r_i · C_ij / Σ_k C_ik, with C = A whose S columns are zeroed (rows ≥ 1 only when
 *   causal: the reference spares row 0, then sets A_00 = 1; both are no-ops on a causal row 0).
 * Non-causal maps treat every row alike and do not touch A_00 (the reference never sees one).
 * One deviation: a row with no mass outside S (0/0, NaN in the reference) is kept as it was.
 */
export function actEditHead(map: ArrayLike<number>, tokens: number, causal: boolean, params: ActParams): Float64Array {
  const t = tokens;
  const out = Float64Array.from({ length: t * t }, (_, k) => map[k]);
  const { edited } = findSinks(sinkScores(map, t, causal), thresholdValue(params.threshold, t));
  if (causal) out[0] = 1; // the reference's modified_head[0, 0] = 1, for every selected head
  if (edited.length === 0) return out;
  const inS = new Uint8Array(t);
  for (const j of edited) inS[j] = 1;
  for (let i = 0; i < t; i++) {
    const row = i * t;
    const zeroSinksInCopy = !causal || i >= 1;
    let sinkMass = 0;
    let copyMass = 0;
    for (let j = 0; j < t; j++) {
      const a = map[row + j];
      if (inS[j]) sinkMass += a;
      if (!(inS[j] && zeroSinksInCopy)) copyMass += a;
    }
    if (copyMass === 0) continue; // all the row's mass is on S: the reference divides 0 by 0
    const removed = (1 - params.beta) * sinkMass;
    for (let j = 0; j < t; j++) {
      const a = map[row + j];
      const copy = inS[j] && zeroSinksInCopy ? 0 : a;
      out[row + j] = (inS[j] ? params.beta * a : a) + removed * (copy / copyMass);
    }
  }
  return out;
}

/**
 * ACT over [heads, T, T] (one sample): the selected heads edited, the others copied. float32
 * out, as the graph's tensors.
 */
export function actEdit(
  maps: ArrayLike<number>,
  heads: number,
  tokens: number,
  causal: boolean,
  selectedHeads: readonly number[],
  params: ActParams = ACT_REFERENCE_PARAMS,
): Float32Array {
  const size = tokens * tokens;
  if (maps.length !== heads * size) throw new Error(`actEdit: ${maps.length} values is not ${heads}×${tokens}×${tokens}`);
  const out = Float32Array.from(maps as ArrayLike<number>);
  for (const h of selectedHeads) {
    if (!Number.isInteger(h) || h < 0 || h >= heads) throw new Error(`actEdit: head ${h} outside 0..${heads - 1}`);
    const head = Array.from({ length: size }, (_, k) => maps[h * size + k]);
    out.set(actEditHead(head, tokens, causal, params), h * size);
  }
  return out;
}
