/**
 * L2-regularised logistic regression on standardised inputs, fitted by Newton's method (the feature count is
 * small, so the exact Hessian is cheap and convergence takes a handful of steps).
 */
import { type Matrix, sigmoid, softplus, solveSpd } from "./matrix.js";

export interface LogisticOptions {
  /** L2 penalty on the standardised weights (not the bias), in units of one sample's log-loss. */
  l2: number;
  maxIterations: number;
  tolerance: number;
}

export const DEFAULT_LOGISTIC_OPTIONS: LogisticOptions = { l2: 1, maxIterations: 50, tolerance: 1e-8 };

export interface LogisticModel {
  means: number[];
  /** Standard deviations; 1 for a constant feature, so that it contributes nothing instead of dividing by 0. */
  scales: number[];
  weights: number[];
  bias: number;
  iterations: number;
}

/** A tiny penalty on the bias keeps it finite when a training set has one class only. */
const BIAS_PENALTY = 1e-4;

export function fitLogistic(x: Matrix, y: ArrayLike<number>, options: Partial<LogisticOptions> = {}): LogisticModel {
  const o = { ...DEFAULT_LOGISTIC_OPTIONS, ...options };
  const n = x.rows;
  const f = x.cols;
  const means = new Array<number>(f).fill(0);
  const scales = new Array<number>(f).fill(0);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < f; j++) means[j] = (means[j] as number) + (x.data[i * f + j] as number);
  for (let j = 0; j < f; j++) means[j] = Math.fround((means[j] as number) / Math.max(1, n));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++)
      scales[j] = (scales[j] as number) + ((x.data[i * f + j] as number) - (means[j] as number)) ** 2;
  }
  for (let j = 0; j < f; j++) {
    const sd = Math.sqrt((scales[j] as number) / Math.max(1, n));
    scales[j] = sd > 1e-9 ? Math.fround(sd) : 1;
  }
  // Standardised design with a trailing column of ones for the bias.
  const d = f + 1;
  const z = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++)
      z[i * d + j] = ((x.data[i * f + j] as number) - (means[j] as number)) / (scales[j] as number);
    z[i * d + f] = 1;
  }
  const beta = new Float64Array(d);
  const penalty = (j: number) => (j === f ? BIAS_PENALTY : o.l2);
  const objective = (b: Float64Array): number => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      let eta = 0;
      for (let j = 0; j < d; j++) eta += (z[i * d + j] as number) * (b[j] as number);
      s += y[i] === 1 ? softplus(-eta) : softplus(eta);
    }
    for (let j = 0; j < d; j++) s += 0.5 * penalty(j) * (b[j] as number) ** 2;
    return s;
  };
  let current = objective(beta);
  let iterations = 0;
  for (; iterations < o.maxIterations; iterations++) {
    const grad = new Float64Array(d);
    const hess = new Float64Array(d * d);
    for (let i = 0; i < n; i++) {
      let eta = 0;
      for (let j = 0; j < d; j++) eta += (z[i * d + j] as number) * (beta[j] as number);
      const p = sigmoid(eta);
      const r = p - (y[i] as number);
      const w = Math.max(p * (1 - p), 1e-12);
      for (let j = 0; j < d; j++) {
        const zij = z[i * d + j] as number;
        grad[j] = (grad[j] as number) + r * zij;
        for (let k = 0; k <= j; k++) hess[j * d + k] = (hess[j * d + k] as number) + w * zij * (z[i * d + k] as number);
      }
    }
    for (let j = 0; j < d; j++) {
      grad[j] = (grad[j] as number) + penalty(j) * (beta[j] as number);
      hess[j * d + j] = (hess[j * d + j] as number) + penalty(j);
      for (let k = 0; k < j; k++) hess[k * d + j] = hess[j * d + k] as number;
    }
    const step = solveSpd(hess, grad, d);
    // Backtracking keeps every step a descent step, even far from the optimum.
    let t = 1;
    let next = new Float64Array(d);
    let value = current;
    for (let tries = 0; tries < 30; tries++) {
      next = beta.map((b, j) => b - t * (step[j] as number));
      value = objective(next);
      if (value <= current) break;
      t /= 2;
    }
    let maxStep = 0;
    for (let j = 0; j < d; j++) maxStep = Math.max(maxStep, Math.abs((next[j] as number) - (beta[j] as number)));
    beta.set(next);
    current = value;
    if (maxStep < o.tolerance) {
      iterations++;
      break;
    }
  }
  return {
    means,
    scales,
    weights: Array.from(beta.subarray(0, f), (w) => Math.fround(w)),
    bias: Math.fround(beta[f] as number),
    iterations,
  };
}

/** The model's logit for one vector, with the same float32 parameters the exported graph holds. */
export function logisticLogit(m: LogisticModel, x: ArrayLike<number>): number {
  let s = m.bias;
  for (let j = 0; j < m.weights.length; j++) {
    s += (m.weights[j] as number) * ((Math.fround(x[j] as number) - (m.means[j] as number)) / (m.scales[j] as number));
  }
  return s;
}
