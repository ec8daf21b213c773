/**
 * How long the trained model takes to score a cycle's batch, measured with onnxruntime (what the predictor runs)
 * beside the heuristic on the same batches, when the card is written. A figure for the card's validation table,
 * not a test: it depends on the machine, and the card says on how many runs it rests.
 */
import { performance } from "node:perf_hooks";
import { FEATURE_COUNT } from "../features.js";
import { heuristicScores } from "../heuristic.js";

const LATENCY_BATCH = 20;
const RUNS = 200;

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

/** Median milliseconds a batch of {@link LATENCY_BATCH} rows, for the model and for the heuristic. */
export async function measureLatency(
  onnx: Uint8Array,
  rows: readonly (readonly number[])[],
): Promise<{ batchSize: number; medianMs: number; heuristicMedianMs: number }> {
  const ort = await import("onnxruntime-node");
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const model: number[] = [];
    const heuristic: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const batch = Array.from({ length: LATENCY_BATCH }, (_, i) => rows[(r * LATENCY_BATCH + i) % rows.length] ?? []);
      const input = new Float32Array(LATENCY_BATCH * FEATURE_COUNT);
      batch.forEach((row, i) => {
        input.set(row, i * FEATURE_COUNT);
      });
      let t = performance.now();
      await session.run({ features: new ort.Tensor("float32", input, [LATENCY_BATCH, FEATURE_COUNT]) });
      model.push(performance.now() - t);
      t = performance.now();
      heuristicScores(batch);
      heuristic.push(performance.now() - t);
    }
    // The first runs allocate; the median leaves them out.
    return { batchSize: LATENCY_BATCH, medianMs: median(model), heuristicMedianMs: median(heuristic) };
  } finally {
    await session.release();
  }
}
