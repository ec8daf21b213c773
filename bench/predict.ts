/**
 * Prediction latency: p50 and p99 per batch of 1, 20 and 200 candidates, for the ONNX predictor (a full
 * `score()` call, which always computes the heuristic too) and for the heuristic alone.
 *
 *   npx tsx bench/predict.ts [--json] [--model path.onnx | --kind <model kind>] [--iterations 10000]
 *
 * By default it scores with the shipped model (models/trust-predictor.onnx). With --kind it trains a model of
 * that kind on generated data first and scores with it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { heuristicScores } from "../src/model/heuristic.js";
import { createPredictor, releaseModels } from "../src/model/predictor.js";
import { MODEL_KINDS, type ModelKind } from "../src/model/train/card.js";
import { seededRandom } from "../src/model/train/random.js";
import { trainModels } from "../src/model/train/train.js";
import { DEFAULT_MODEL_PATH } from "../src/runtime/create-runtime.js";
import { randomVector, syntheticSamples } from "../test/model/synthetic.js";

const BATCH_SIZES = [1, 20, 200] as const;
/** Runs before measuring, so that allocation and JIT warm-up are not counted. */
const WARMUP = 500;

const { values } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    model: { type: "string" },
    kind: { type: "string" },
    iterations: { type: "string", default: "10000" },
  },
});
const iterations = Number(values.iterations);
if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`--iterations must be a positive integer`);
if (values.kind !== undefined && !(MODEL_KINDS as readonly string[]).includes(values.kind)) {
  throw new Error(`--kind must be one of ${MODEL_KINDS.join(", ")}`);
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

async function measure(run: () => unknown): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < WARMUP; i++) await run();
  const times = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await run();
    times[i] = performance.now() - start;
  }
  times.sort();
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

const dir = mkdtempSync(join(tmpdir(), "odavl-bench-"));
try {
  let modelPath = values.model ?? (values.kind ? undefined : DEFAULT_MODEL_PATH);
  let trainedAs = modelPath === DEFAULT_MODEL_PATH ? "the shipped model" : "loaded";
  if (!modelPath) {
    const samples = syntheticSamples({ repositories: 10, perRepository: 300, signal: "interaction" });
    const { onnx, card } = trainModels(samples, { kinds: [values.kind as ModelKind], learningCurve: [] });
    modelPath = join(dir, "bench.onnx");
    writeFileSync(modelPath, onnx);
    trainedAs = `${card.kind}, ${samples.length} generated samples`;
  }
  // A generous budget: the benchmark measures latency, it must not measure fallbacks.
  const predictor = await createPredictor({ enabled: true, modelPath, timeBudgetMs: 10_000 });
  if (!predictor.status.loaded) {
    throw new Error(
      `model not loaded: ${predictor.status.loadFailure?.cause} ${predictor.status.loadFailure?.message}`,
    );
  }
  const random = seededRandom(99);
  const batches = [];
  for (const size of BATCH_SIZES) {
    const batch = Array.from({ length: size }, () => randomVector(random));
    let fallbacks = 0;
    const ml = await measure(async () => {
      const r = await predictor.score(batch);
      if (!r.usedML) fallbacks++;
    });
    if (fallbacks) throw new Error(`${fallbacks} batches of ${size} fell back to the heuristic`);
    const heuristic = await measure(() => heuristicScores(batch));
    batches.push({
      size,
      mlP50Ms: ml.p50,
      mlP99Ms: ml.p99,
      heuristicP50Ms: heuristic.p50,
      heuristicP99Ms: heuristic.p99,
    });
  }
  if (values.json) {
    console.log(JSON.stringify({ batches }));
  } else {
    const f = (ms: number) => `${(ms * 1000).toFixed(1)} µs`.padStart(10);
    console.log(
      `model: ${predictor.status.kind} ${predictor.status.modelVersion} (${trainedAs}); ${iterations} runs per batch size`,
    );
    console.log("batch   ML p50      ML p99      heuristic p50  heuristic p99");
    for (const b of batches) {
      console.log(
        `${String(b.size).padStart(5)} ${f(b.mlP50Ms)} ${f(b.mlP99Ms)}   ${f(b.heuristicP50Ms)}     ${f(b.heuristicP99Ms)}`,
      );
    }
  }
} finally {
  await releaseModels();
  rmSync(dir, { recursive: true, force: true });
}
