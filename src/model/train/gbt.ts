/**
 * Gradient-boosted regression trees for log-loss, second-order (each leaf takes the Newton step -G / (H + l2)),
 * on binned features: thresholds are chosen from at most `maxBins` candidate cut points per feature, so a split
 * search is one histogram pass over the node's samples. Trees are depth-limited, need `minSamplesLeaf` samples in
 * every leaf, and are shrunk by `learningRate`; each tree sees a seeded subsample of the rows. How many of the
 * `trees` to keep is chosen by the caller from {@link forEachStage} on held-out rows (early stopping).
 */
import type { ExportTreeNode } from "../onnx/export.js";
import type { Matrix } from "./matrix.js";
import { sigmoid } from "./matrix.js";
import { seededRandom } from "./random.js";

export interface GbtOptions {
  /** The most trees to fit (training may keep fewer: see {@link forEachStage}). */
  trees: number;
  maxDepth: number;
  learningRate: number;
  minSamplesLeaf: number;
  /** L2 penalty on leaf values (in the denominator of the Newton step). */
  l2: number;
  /** Share of rows each tree is fitted on. */
  subsample: number;
  maxBins: number;
  /** A split must reduce the loss's second-order approximation by at least this much. */
  minGain: number;
  seed: number;
}

export const DEFAULT_GBT_OPTIONS: GbtOptions = {
  trees: 150,
  maxDepth: 3,
  learningRate: 0.1,
  minSamplesLeaf: 20,
  l2: 1,
  subsample: 0.8,
  maxBins: 32,
  minGain: 1e-6,
  seed: 1,
};

export type TreeNode = ExportTreeNode;

export interface GbtModel {
  featureCount: number;
  baseLogit: number;
  trees: TreeNode[][];
}

/**
 * A threshold strictly between two float32 values a < b when one exists, else a; either way x <= t separates
 * them, and the float32 threshold keeps the runtime's comparison identical to this one.
 */
function cutBetween(a: number, b: number): number {
  const t = Math.fround((a + b) / 2);
  return t >= a && t < b ? t : a;
}

/** Candidate thresholds of one feature: between consecutive distinct values, or at quantiles when there are many. */
function cutPoints(values: Float64Array, maxBins: number): number[] {
  const sorted = Float64Array.from(values).sort();
  const distinct: number[] = [];
  for (const v of sorted) if (distinct.length === 0 || v !== distinct[distinct.length - 1]) distinct.push(v);
  if (distinct.length <= 1) return [];
  if (distinct.length <= maxBins) {
    return distinct.slice(0, -1).map((v, i) => cutBetween(v, distinct[i + 1] as number));
  }
  const cuts: number[] = [];
  for (let q = 1; q < maxBins; q++) {
    const v = sorted[Math.min(sorted.length - 1, Math.floor((q * sorted.length) / maxBins))] as number;
    // The cut sits just above v, below the next distinct value.
    let lo = 0;
    let hi = distinct.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((distinct[mid] as number) <= v) lo = mid + 1;
      else hi = mid;
    }
    if ((distinct[lo] as number) <= v) continue;
    const cut = cutBetween(v, distinct[lo] as number);
    if (cuts.length === 0 || cut > (cuts[cuts.length - 1] as number)) cuts.push(cut);
  }
  return cuts;
}

/** Bin of x: the number of cuts below it, so x <= cuts[j] exactly when bin <= j. */
function binOf(cuts: readonly number[], x: number): number {
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((cuts[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Split {
  feature: number;
  bin: number;
  gain: number;
}

function checkOptions(o: GbtOptions): void {
  const bad = (name: string, rule: string) => new RangeError(`boosted trees: ${name} must be ${rule}`);
  if (!Number.isInteger(o.trees) || o.trees < 0) throw bad("trees", "a non-negative integer");
  if (!Number.isInteger(o.maxDepth) || o.maxDepth < 1 || o.maxDepth > 12)
    throw bad("maxDepth", "an integer in [1, 12]");
  if (!(o.learningRate > 0 && o.learningRate <= 1)) throw bad("learningRate", "in (0, 1]");
  if (!Number.isInteger(o.minSamplesLeaf) || o.minSamplesLeaf < 1) throw bad("minSamplesLeaf", "a positive integer");
  if (!(o.l2 >= 0)) throw bad("l2", ">= 0");
  if (!(o.subsample > 0 && o.subsample <= 1)) throw bad("subsample", "in (0, 1]");
  // Bins are stored in a byte per value.
  if (!Number.isInteger(o.maxBins) || o.maxBins < 2 || o.maxBins > 255) throw bad("maxBins", "an integer in [2, 255]");
}

/**
 * Fits the ensemble. With `offset` (one logit per row) the trees start from those logits instead of the base rate
 * and learn corrections to them: the model's logit is then offset + the ensemble's sum (`baseLogit` is 0).
 */
export function fitGbt(
  x: Matrix,
  y: ArrayLike<number>,
  options: Partial<GbtOptions> = {},
  offset?: ArrayLike<number>,
): GbtModel {
  const o = { ...DEFAULT_GBT_OPTIONS, ...options };
  checkOptions(o);
  const n = x.rows;
  const f = x.cols;
  const cuts: number[][] = [];
  const column = new Float64Array(n);
  for (let j = 0; j < f; j++) {
    for (let i = 0; i < n; i++) column[i] = x.data[i * f + j] as number;
    cuts.push(cutPoints(column, o.maxBins));
  }
  const bins = new Uint8Array(n * f);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) bins[i * f + j] = binOf(cuts[j] as number[], x.data[i * f + j] as number);
  }
  const width = o.maxBins + 1;
  const baseLogit = offset ? 0 : baseRateLogit(y);
  const margin = startingMargin(baseLogit, n, offset);
  const grad = new Float64Array(n);
  const hess = new Float64Array(n);
  const random = seededRandom(o.seed);
  const trees: TreeNode[][] = [];
  const histG = new Float64Array(f * width);
  const histH = new Float64Array(f * width);
  const histC = new Float64Array(f * width);

  const bestSplit = (rows: Int32Array, g: number, h: number): Split | null => {
    histG.fill(0);
    histH.fill(0);
    histC.fill(0);
    for (const i of rows) {
      const gi = grad[i] as number;
      const hi = hess[i] as number;
      const base = i * f;
      for (let j = 0; j < f; j++) {
        const k = j * width + (bins[base + j] as number);
        histG[k] = (histG[k] as number) + gi;
        histH[k] = (histH[k] as number) + hi;
        histC[k] = (histC[k] as number) + 1;
      }
    }
    const parent = (g * g) / (h + o.l2);
    let best: Split | null = null;
    for (let j = 0; j < f; j++) {
      const nCuts = (cuts[j] as number[]).length;
      let gl = 0;
      let hl = 0;
      let cl = 0;
      for (let b = 0; b < nCuts; b++) {
        const k = j * width + b;
        gl += histG[k] as number;
        hl += histH[k] as number;
        cl += histC[k] as number;
        const cr = rows.length - cl;
        if (cl < o.minSamplesLeaf) continue;
        if (cr < o.minSamplesLeaf) break;
        const gr = g - gl;
        const hr = h - hl;
        const gain = (gl * gl) / (hl + o.l2) + (gr * gr) / (hr + o.l2) - parent;
        if (gain > o.minGain && (best === null || gain > best.gain)) best = { feature: j, bin: b, gain };
      }
    }
    return best;
  };

  const grow = (tree: TreeNode[], rows: Int32Array, depth: number): number => {
    let g = 0;
    let h = 0;
    for (const i of rows) {
      g += grad[i] as number;
      h += hess[i] as number;
    }
    const id = tree.length;
    const split = depth < o.maxDepth && rows.length >= 2 * o.minSamplesLeaf ? bestSplit(rows, g, h) : null;
    if (!split) {
      tree.push({ kind: "leaf", value: Math.fround((-g / (h + o.l2)) * o.learningRate) });
      return id;
    }
    const threshold = (cuts[split.feature] as number[])[split.bin] as number;
    tree.push({ kind: "split", feature: split.feature, threshold, left: -1, right: -1 });
    let nl = 0;
    for (const i of rows) if ((bins[i * f + split.feature] as number) <= split.bin) nl++;
    const left = new Int32Array(nl);
    const right = new Int32Array(rows.length - nl);
    let li = 0;
    let ri = 0;
    for (const i of rows) {
      if ((bins[i * f + split.feature] as number) <= split.bin) left[li++] = i;
      else right[ri++] = i;
    }
    const l = grow(tree, left, depth + 1);
    const r = grow(tree, right, depth + 1);
    tree[id] = { kind: "split", feature: split.feature, threshold, left: l, right: r };
    return id;
  };

  const all = Int32Array.from({ length: n }, (_, i) => i);
  for (let t = 0; t < o.trees; t++) {
    for (let i = 0; i < n; i++) {
      const p = sigmoid(margin[i] as number);
      grad[i] = p - (y[i] as number);
      hess[i] = Math.max(p * (1 - p), 1e-12);
    }
    let rows = all;
    if (o.subsample < 1) {
      const picked: number[] = [];
      for (let i = 0; i < n; i++) if (random() < o.subsample) picked.push(i);
      rows = Int32Array.from(picked);
    }
    const tree: TreeNode[] = [];
    grow(tree, rows, 0);
    trees.push(tree);
    for (let i = 0; i < n; i++) margin[i] = (margin[i] as number) + treeValue(tree, x.data, i * f);
  }
  return { featureCount: f, baseLogit, trees };
}

/** The logit of the rows' smoothed success rate, in float32: where boosting starts without offsets. */
export function baseRateLogit(y: ArrayLike<number>): number {
  let positives = 0;
  for (let i = 0; i < y.length; i++) positives += y[i] as number;
  const prior = Math.min(1 - 1e-6, Math.max(1e-6, (positives + 0.5) / (y.length + 1)));
  return Math.fround(Math.log(prior / (1 - prior)));
}

/** The rows' starting logits: the offsets when given, else the model's base logit. */
function startingMargin(baseLogit: number, rows: number, offset?: ArrayLike<number>): Float64Array {
  const margin = new Float64Array(rows).fill(baseLogit);
  if (offset) {
    if (offset.length !== rows) throw new RangeError(`boosted trees: ${offset.length} offsets for ${rows} rows`);
    for (let i = 0; i < rows; i++) margin[i] = (margin[i] as number) + (offset[i] as number);
  }
  return margin;
}

/**
 * Early stopping's view of a fitted ensemble: calls `visit(t, logits)` with the rows' logits after the first t
 * trees, for t from 0 (the offsets or the base rate alone) to all of them. `logits` is reused between calls.
 */
export function forEachStage(
  m: GbtModel,
  x: Matrix,
  offset: ArrayLike<number> | undefined,
  visit: (trees: number, logits: Float64Array) => void,
): void {
  const margin = startingMargin(m.baseLogit, x.rows, offset);
  visit(0, margin);
  m.trees.forEach((tree, t) => {
    for (let i = 0; i < x.rows; i++) margin[i] = (margin[i] as number) + treeValue(tree, x.data, i * x.cols);
    visit(t + 1, margin);
  });
}

function treeValue(tree: readonly TreeNode[], data: ArrayLike<number>, offset: number): number {
  let node = tree[0] as TreeNode;
  while (node.kind === "split") {
    node = tree[
      Math.fround(data[offset + node.feature] as number) <= node.threshold ? node.left : node.right
    ] as TreeNode;
  }
  return node.value;
}

/** The ensemble's logit for one vector, compared in float32 as the runtime does. */
export function gbtLogit(m: GbtModel, x: ArrayLike<number>): number {
  let s = m.baseLogit;
  for (const tree of m.trees) s += treeValue(tree, x, 0);
  return s;
}
