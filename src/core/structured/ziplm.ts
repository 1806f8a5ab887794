// ZipLM's structured OBS step (Kurtić et al., "ZipLM: Inference-Aware Structured Pruning of
// Language Models", NeurIPS 2023; IST-DASLab/ZipLM `prune_struct`, as carried into FastOBCStruct
// `step`): greedily remove whole groups of input columns of a consuming layer — a head's
// headDim columns of the attention output projection, one column of the MLP down projection — by
// the OBS saliency of the group, updating the remaining weights so the layer's output on the
// calibration inputs changes least.
//
// Notation: W (C_out × C_in), H = 2/n · X Xᵀ over the calibration inputs (LayerStats.hessian).
// Preparation (FastOBCStruct.pruning_pre_step / _prepare): a dead input (H_jj = 0) gets H_jj = 1
// and its column of W zeroed; damping adds rel_damp · mean(diag H) to the diagonal; an all-zero
// column of W gets its row and column of H zeroed and H_jj = 1; then Hinv = H⁻¹.
// For each structure S (a set of `size` consecutive columns) still present:
//   ρ_S = Σ_rows W_{:,S} ((Hinv)_{S,S})⁻¹ W_{:,S}ᵀ            (the saliency; `scores`)
// remove the S of least ρ, then
//   W   ← W − W_{:,S} ((Hinv)_{S,S})⁻¹ (Hinv)_{S,:}            (the OBS update; W_{:,S} becomes 0)
//   Hinv ← Hinv − (Hinv)_{:,S} ((Hinv)_{S,S})⁻¹ (Hinv)_{S,:}    (the block Schur complement: S's rows/cols
//                                                               vanish), then (Hinv)_{jj} = 1 for removed j
// and the database's error after k removals is Σ of the first k ρ, halved (the reference prints
// `torch.sum(Losses) / 2`: with H = 2/n·XXᵀ that is the mean squared change of the output).
// The reference runs in float32 on the GPU; here everything is float64.
import { hessianInverseCholesky } from '../prune/hessianInverse.ts';
import type { Matrix } from '../prune/types.ts';
import { PruneError } from '../prune/types.ts';

export interface StructuredObsOptions {
  /** Columns per structure (a head group's width, or 1 for a neuron). */
  size: number;
  /** ZipLM's rel_damp (percdamp): the fraction of mean(diag H) added to the diagonal. Reference default 0.01. */
  dampening: number;
  /** Stop after this many removals (default: all but one structure). */
  remove?: number;
}

export interface StructuredObsResult {
  /** Structures in the order they were removed. */
  order: number[];
  /** error[k]: the OBS error after k removals (error[0] = 0), ZipLM's Σ losses / 2. */
  error: Float64Array;
  /** Saliency of each removal when it was made (ZipLM's Losses). */
  losses: Float64Array;
  /** W after the last removal: removed columns 0, the rest updated. */
  weight: Matrix;
}

/** Inverse of a small symmetric positive-definite (n × n) block by Gauss–Jordan with partial pivoting. */
export function invertSmall(a: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]) > Math.abs(m[p * n + c])) p = r;
    if (m[p * n + c] === 0) throw new PruneError(`a block of the inverse Hessian is singular (column ${c})`);
    if (p !== c) {
      for (let k = 0; k < n; k++) {
        [m[c * n + k], m[p * n + k]] = [m[p * n + k], m[c * n + k]];
        [inv[c * n + k], inv[p * n + k]] = [inv[p * n + k], inv[c * n + k]];
      }
    }
    const d = m[c * n + c];
    for (let k = 0; k < n; k++) {
      m[c * n + k] /= d;
      inv[c * n + k] /= d;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * n + c];
      if (f === 0) continue;
      for (let k = 0; k < n; k++) {
        m[r * n + k] -= f * m[c * n + k];
        inv[r * n + k] -= f * inv[c * n + k];
      }
    }
  }
  return inv;
}

/** The damped H and W as the reference prepares them, and H⁻¹ (float64, n × n). */
export function preparedInverse(weight: Matrix, hessian: Float64Array, dampening: number): { w: Float64Array; hinv: Float64Array } {
  const { rows, cols } = weight;
  const n = cols;
  if (hessian.length !== n * n) throw new PruneError(`the Hessian holds ${hessian.length} values, expected ${n}×${n}`);
  const h = Float64Array.from(hessian);
  const w = Float64Array.from(weight.data);
  for (let j = 0; j < n; j++) {
    if (h[j * n + j] === 0) {
      h[j * n + j] = 1;
      for (let r = 0; r < rows; r++) w[r * n + j] = 0;
    }
  }
  let mean = 0;
  for (let j = 0; j < n; j++) mean += h[j * n + j];
  const damp = (dampening * mean) / n;
  for (let j = 0; j < n; j++) h[j * n + j] += damp;
  for (let j = 0; j < n; j++) {
    let zero = true;
    for (let r = 0; r < rows && zero; r++) zero = w[r * n + j] === 0;
    if (!zero) continue;
    for (let k = 0; k < n; k++) h[j * n + k] = h[k * n + j] = 0;
    h[j * n + j] = 1;
  }
  // H⁻¹ = Uᵀ U from the upper Cholesky factor of H⁻¹ (prune/hessianInverse.ts, float64).
  const u = hessianInverseCholesky(h, n);
  const hinv = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    for (let i = k; i < n; i++) {
      const uki = u[k * n + i];
      if (uki === 0) continue;
      for (let j = k; j < n; j++) hinv[i * n + j] += uki * u[k * n + j];
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) hinv[i * n + j] = hinv[j * n + i];
  void rows;
  return { w, hinv };
}

/** ZipLM's greedy structured OBS on one layer: the removal order, the error database and the updated W. */
export function structuredObs(weight: Matrix, hessian: Float64Array, options: StructuredObsOptions): StructuredObsResult {
  const { rows, cols: n } = weight;
  const { size } = options;
  if (!(size >= 1 && n % size === 0)) throw new PruneError(`${n} columns do not split into structures of ${size}`);
  const count = n / size;
  const remove = Math.min(options.remove ?? count - 1, count);
  const { w, hinv } = preparedInverse(weight, hessian, options.dampening);
  if (size === 1) return singleColumnObs(w, hinv, rows, n, remove);
  const removed = new Uint8Array(count);
  const order: number[] = [];
  const losses = new Float64Array(remove);
  const error = new Float64Array(remove + 1);
  const block = new Float64Array(size * size);
  const lambda = new Float64Array(rows * size); // W_{:,S} (Hinv_SS)⁻¹ of the chosen S
  for (let step = 0; step < remove; step++) {
    let best = -1;
    let bestScore = Infinity;
    let bestInverse: Float64Array | null = null;
    for (let s = 0; s < count; s++) {
      if (removed[s]) continue;
      const o = s * size;
      for (let a = 0; a < size; a++) for (let b = 0; b < size; b++) block[a * size + b] = hinv[(o + a) * n + o + b];
      const inv = invertSmall(block, size);
      let score = 0;
      for (let r = 0; r < rows; r++) {
        for (let a = 0; a < size; a++) {
          let t = 0;
          for (let b = 0; b < size; b++) t += w[r * n + o + b] * inv[b * size + a];
          score += t * w[r * n + o + a];
        }
      }
      if (score < bestScore) {
        bestScore = score;
        best = s;
        bestInverse = inv;
      }
    }
    const o = best * size;
    const inv = bestInverse!;
    for (let r = 0; r < rows; r++) {
      for (let a = 0; a < size; a++) {
        let t = 0;
        for (let b = 0; b < size; b++) t += w[r * n + o + b] * inv[b * size + a];
        lambda[r * size + a] = t;
      }
    }
    // W −= λ (Hinv)_{S,:}
    for (let r = 0; r < rows; r++) {
      for (let a = 0; a < size; a++) {
        const l = lambda[r * size + a];
        if (l === 0) continue;
        const hrow = (o + a) * n;
        for (let j = 0; j < n; j++) w[r * n + j] -= l * hinv[hrow + j];
      }
    }
    removed[best] = 1;
    for (let s = 0; s < count; s++) if (removed[s]) for (let r = 0; r < rows; r++) for (let a = 0; a < size; a++) w[r * n + s * size + a] = 0;
    order.push(best);
    losses[step] = bestScore;
    error[step + 1] = error[step] + bestScore / 2;
    // Hinv −= (Hinv)_{:,S} inv (Hinv)_{S,:}; removed diagonal entries back to 1.
    const rowsS = new Float64Array(size * n);
    for (let a = 0; a < size; a++) rowsS.set(hinv.subarray((o + a) * n, (o + a + 1) * n), a * n);
    const t = new Float64Array(size * n); // inv · rowsS
    for (let a = 0; a < size; a++) for (let b = 0; b < size; b++) {
      const f = inv[a * size + b];
      if (f === 0) continue;
      for (let j = 0; j < n; j++) t[a * n + j] += f * rowsS[b * n + j];
    }
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < size; a++) {
        const f = rowsS[a * n + i];
        if (f === 0) continue;
        const ti = a * n;
        for (let j = 0; j < n; j++) hinv[i * n + j] -= f * t[ti + j];
      }
    }
    for (let s = 0; s < count; s++) if (removed[s]) for (let a = 0; a < size; a++) hinv[(s * size + a) * n + s * size + a] = 1;
  }
  return { order, error, losses, weight: { rows, cols: n, data: Float32Array.from(w) } };
}

/**
 * W after removing the input columns `columns` at once with the OBS update
 *   W_{:,K} ← W_{:,K} − W_{:,S} ((Hinv)_{S,S})⁻¹ (Hinv)_{S,K},  W_{:,S} ← 0,
 * from the prepared (damped) Hinv. Removing S one structure at a time with the Schur-complement
 * updates of the greedy loop composes to exactly this (block elimination), so the stage computes
 * the weights of the planned level from the database's removal order without replaying the loop;
 * the test checks the two agree.
 */
export function obsRemove(weight: Matrix, hessian: Float64Array, columns: readonly number[], dampening: number): Matrix {
  const { rows, cols: n } = weight;
  const { w, hinv } = preparedInverse(weight, hessian, dampening);
  const s = columns.length;
  if (s === 0) return { rows, cols: n, data: Float32Array.from(w) };
  const hss = new Float64Array(s * s);
  for (let a = 0; a < s; a++) for (let b = 0; b < s; b++) hss[a * s + b] = hinv[columns[a] * n + columns[b]];
  // (Hinv_SS)⁻¹ = Uᵀ U with U the upper Cholesky factor of its inverse (prune/hessianInverse.ts).
  const u = hessianInverseCholesky(hss, s);
  const inv = new Float64Array(s * s);
  for (let k = 0; k < s; k++) for (let i = k; i < s; i++) {
    const uki = u[k * s + i];
    if (uki !== 0) for (let j = k; j < s; j++) inv[i * s + j] += uki * u[k * s + j];
  }
  for (let i = 0; i < s; i++) for (let j = 0; j < i; j++) inv[i * s + j] = inv[j * s + i];
  const lambda = new Float64Array(rows * s); // W_{:,S} inv
  for (let r = 0; r < rows; r++) for (let a = 0; a < s; a++) {
    const wa = w[r * n + columns[a]];
    if (wa !== 0) for (let b = 0; b < s; b++) lambda[r * s + b] += wa * inv[a * s + b];
  }
  for (let r = 0; r < rows; r++) for (let b = 0; b < s; b++) {
    const l = lambda[r * s + b];
    if (l === 0) continue;
    const h = columns[b] * n;
    for (let j = 0; j < n; j++) w[r * n + j] -= l * hinv[h + j];
  }
  for (let r = 0; r < rows; r++) for (const c of columns) w[r * n + c] = 0;
  return { rows, cols: n, data: Float32Array.from(w) };
}

/**
 * The reference's `size == 1` branch (one neuron per structure): scores = Σ_rows W² / diag(Hinv),
 * W −= (W_{:,j} / d) Hinv_{j,:}, Hinv −= Hinv_{j,:}ᵀ Hinv_{j,:} / d — the same algebra as the block
 * branch with 1 × 1 blocks, without the per-structure block inversions.
 */
function singleColumnObs(w: Float64Array, hinv: Float64Array, rows: number, n: number, remove: number): StructuredObsResult {
  const removed = new Uint8Array(n);
  const order: number[] = [];
  const losses = new Float64Array(remove);
  const error = new Float64Array(remove + 1);
  const sq = new Float64Array(n);
  const row = new Float64Array(n);
  // Columns still present: removed rows and columns of Hinv are exactly 0 after their Schur step
  // (off the diagonal), so the updates only touch these.
  let active = Int32Array.from({ length: n }, (_, j) => j);
  for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) sq[j] += w[r * n + j] ** 2;
  for (let step = 0; step < remove; step++) {
    let best = -1;
    let bestScore = Infinity;
    for (const j of active) {
      const score = sq[j] / hinv[j * n + j];
      if (score < bestScore) {
        bestScore = score;
        best = j;
      }
    }
    const d = hinv[best * n + best];
    row.set(hinv.subarray(best * n, best * n + n));
    removed[best] = 1;
    active = active.filter((j) => j !== best);
    // W −= (W_{:,j} / d) Hinv_{j,:}; the removed column becomes exactly 0; Σ W² per column again.
    sq.fill(0);
    for (let r = 0; r < rows; r++) {
      const o = r * n;
      const f = w[o + best] / d;
      w[o + best] = 0;
      for (const j of active) {
        const v = w[o + j] - f * row[j];
        w[o + j] = v;
        sq[j] += v * v;
      }
    }
    order.push(best);
    losses[step] = bestScore;
    error[step + 1] = error[step] + bestScore / 2;
    for (const i of active) {
      const f = row[i] / d;
      if (f === 0) continue;
      const o = i * n;
      for (const j of active) hinv[o + j] -= f * row[j];
    }
    for (let j = 0; j < n; j++) if (removed[j]) hinv[j * n + j] = 1;
  }
  return { order, error, losses, weight: { rows, cols: n, data: Float32Array.from(w) } };
}

/** ‖(Ŵ − W) X‖_F / ‖W X‖_F on the calibration inputs, from H = 2/n·XXᵀ (undamped): the layer's relative output error. */
export function relativeOutputError(before: Matrix, after: Matrix, hessian: Float64Array): number {
  const { rows, cols: n } = before;
  let num = 0;
  let den = 0;
  const d = new Float64Array(n);
  const x = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < n; j++) {
      x[j] = before.data[r * n + j];
      d[j] = after.data[r * n + j] - x[j];
    }
    for (let i = 0; i < n; i++) {
      if (d[i] === 0 && x[i] === 0) continue;
      let hd = 0;
      let hx = 0;
      for (let j = 0; j < n; j++) {
        hd += hessian[i * n + j] * d[j];
        hx += hessian[i * n + j] * x[j];
      }
      num += d[i] * hd;
      den += x[i] * hx;
    }
  }
  return den > 0 ? Math.sqrt(Math.max(num, 0) / den) : 0;
}
