/** Row-major sample matrices and the small dense solver training needs. */

export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

/**
 * Copies rows into a matrix, rounding every value to float32: the exported graph sees float32 inputs, so training
 * on the same values keeps tree thresholds and in-process predictions identical to the runtime's.
 */
export function toMatrix(rows: readonly (readonly number[])[], cols: number): Matrix {
  const data = new Float64Array(rows.length * cols);
  rows.forEach((r, i) => {
    for (let j = 0; j < cols; j++) data[i * cols + j] = Math.fround(r[j] ?? 0);
  });
  return { rows: rows.length, cols, data };
}

export function rowOf(m: Matrix, i: number): Float64Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

class SingularMatrixError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SingularMatrixError";
  }
}

/** Solves A x = b for a symmetric positive-definite A (n x n, row-major) by Cholesky decomposition. */
export function solveSpd(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j] as number;
      for (let k = 0; k < j; k++) s -= (l[i * n + k] as number) * (l[j * n + k] as number);
      if (i === j) {
        if (!(s > 0)) throw new SingularMatrixError(`matrix not positive definite at pivot ${i}`);
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / (l[j * n + j] as number);
      }
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i] as number;
    for (let k = 0; k < i; k++) s -= (l[i * n + k] as number) * (y[k] as number);
    y[i] = s / (l[i * n + i] as number);
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i] as number;
    for (let k = i + 1; k < n; k++) s -= (l[k * n + i] as number) * (x[k] as number);
    x[i] = s / (l[i * n + i] as number);
  }
  return x;
}

export const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** log(1 + exp(z)) without overflow. */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}
