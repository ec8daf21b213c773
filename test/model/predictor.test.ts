import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decide } from "../../src/engine/decide.js";
import { computeFeatures, FEATURE_COUNT, FEATURE_SCHEMA_VERSION, featureIndex } from "../../src/model/features.js";
import { heuristicScores } from "../../src/model/heuristic.js";
import { MetadataKey } from "../../src/model/onnx/export.js";
import {
  createHeuristicPredictor,
  createPredictor,
  type FallbackEvent,
  FeatureVectorError,
  type PredictorOptions,
  releaseModels,
} from "../../src/model/predictor.js";
import { FALLBACK_RATE, PRIOR_WEIGHT } from "../../src/model/priors.js";
import { DEFAULT_THRESHOLDS } from "../../src/model/tiers.js";
import { seededRandom } from "../../src/model/train/random.js";
import type { FallbackCause } from "../../src/model/types.js";
import { candidate, facts, recipe } from "./fixtures.js";
import * as fx from "./onnx-fixtures.js";
import { randomVector } from "./synthetic.js";

const dir = mkdtempSync(join(tmpdir(), "odavl-predictor-"));
afterAll(async () => {
  await releaseModels();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function modelFile(bytes: Uint8Array): string {
  const path = join(dir, `m${n++}.onnx`);
  writeFileSync(path, bytes);
  return path;
}

const random = seededRandom(3);
const batch = [randomVector(random), randomVector(random), randomVector(random)];

function spies() {
  const warnings: object[] = [];
  const events: FallbackEvent[] = [];
  return {
    warnings,
    events,
    options: {
      logger: { warn: (obj: object) => warnings.push(obj) },
      onFallback: (e: FallbackEvent) => events.push(e),
    } satisfies Partial<PredictorOptions>,
  };
}

async function expectFallback(options: Omit<PredictorOptions, "logger" | "onFallback">, cause: FallbackCause) {
  const s = spies();
  const predictor = await createPredictor({ ...options, ...s.options });
  const result = await predictor.score(batch);
  expect(result.usedML).toBe(false);
  expect(result.fallbackCause).toBe(cause);
  expect(result.ml).toBeNull();
  expect(result.heuristic).toEqual(heuristicScores(batch));
  expect(s.events.map((e) => e.cause)).toEqual([cause]);
  // Disabled is an operator's choice, not a problem: no warning for it.
  if (cause !== "disabled") expect(s.warnings.length).toBeGreaterThan(0);
  return { predictor, result };
}

describe("predictor fallbacks: the heuristic decides and the batch says why", () => {
  it("disabled", async () => {
    await expectFallback({ enabled: false, modelPath: modelFile(fx.sigmoidModel()), timeBudgetMs: 100 }, "disabled");
  });

  it("missing file", async () => {
    const { predictor } = await expectFallback(
      { enabled: true, modelPath: join(dir, "nope.onnx"), timeBudgetMs: 100 },
      "missing",
    );
    expect(predictor.status.loadFailure?.cause).toBe("missing");
  });

  it("no model path", async () => {
    await expectFallback({ enabled: true, modelPath: undefined, timeBudgetMs: 100 }, "missing");
  });

  it("corrupt file: random bytes, a truncated model, a directory", async () => {
    await expectFallback(
      { enabled: true, modelPath: modelFile(new Uint8Array([8, 0, 1, 2, 3, 250])), timeBudgetMs: 100 },
      "corrupt",
    );
    await expectFallback(
      { enabled: true, modelPath: modelFile(fx.sigmoidModel().slice(0, 120)), timeBudgetMs: 100 },
      "corrupt",
    );
    await expectFallback({ enabled: true, modelPath: dir, timeBudgetMs: 100 }, "corrupt");
  });

  it("corrupt graph: well-formed protobuf the runtime rejects", async () => {
    const bytes = fx.sigmoidModel({ weights: new Array<number>(FEATURE_COUNT + 1).fill(0) });
    await expectFallback({ enabled: true, modelPath: modelFile(bytes), timeBudgetMs: 100 }, "corrupt");
  });

  it("wrong input shape", async () => {
    await expectFallback(
      { enabled: true, modelPath: modelFile(fx.wrongInputModel()), timeBudgetMs: 100 },
      "input-shape",
    );
  });

  it("feature-schema version mismatch (and a model without the version)", async () => {
    const v1 = fx.sigmoidModel({ meta: fx.metadata({ featureSchemaVersion: "1" }) });
    await expectFallback({ enabled: true, modelPath: modelFile(v1), timeBudgetMs: 100 }, "schema-version");
    const { featureSchemaVersion: _dropped, ...rest } = fx.metadata();
    await expectFallback(
      { enabled: true, modelPath: modelFile(fx.sigmoidModel({ meta: rest })), timeBudgetMs: 100 },
      "schema-version",
    );
    const renamed = fx.sigmoidModel({ meta: fx.metadata({ featureNames: JSON.stringify(["a"]) }) });
    await expectFallback({ enabled: true, modelPath: modelFile(renamed), timeBudgetMs: 100 }, "schema-version");
  });

  it("a model of schema v2 (the model shipped before v3) is refused, and the message says which schemas differ", async () => {
    const v2 = fx.sigmoidModel({ meta: fx.metadata({ featureSchemaVersion: "2" }) });
    const { predictor } = await expectFallback(
      { enabled: true, modelPath: modelFile(v2), timeBudgetMs: 100 },
      "schema-version",
    );
    expect(predictor.status.loadFailure?.message).toBe(
      `model features are schema 2, this build computes schema ${FEATURE_SCHEMA_VERSION}`,
    );
    // No model, no priors: every recipe's prior feature is the fallback.
    expect(await predictor.recipePriors()).toBeNull();
  });

  it("gives the features the recipe priors its model ships; invalid priors make the model corrupt", async () => {
    const priors = { global: { successes: 8, runs: 10 }, recipes: { "eslint/eqeqeq": { successes: 1, runs: 4 } } };
    const withPriors = fx.sigmoidModel({ meta: fx.metadata({ [MetadataKey.recipePriors]: JSON.stringify(priors) }) });
    const predictor = await createPredictor({ enabled: true, modelPath: modelFile(withPriors), timeBudgetMs: 1000 });
    expect(await predictor.recipePriors()).toEqual(priors);
    const bad = fx.sigmoidModel({
      meta: fx.metadata({ [MetadataKey.recipePriors]: JSON.stringify({ global: { successes: 5, runs: 1 } }) }),
    });
    await expectFallback({ enabled: true, modelPath: modelFile(bad), timeBudgetMs: 100 }, "corrupt");
  });

  it("a cycle's feature vectors start each recipe at the model's shipped prior (not every recipe at 0.92)", async () => {
    const priors = { global: { successes: 80, runs: 100 }, recipes: { "eslint/eqeqeq": { successes: 2, runs: 10 } } };
    const predictor = await createPredictor({
      enabled: true,
      modelPath: modelFile(
        fx.sigmoidModel({ meta: fx.metadata({ [MetadataKey.recipePriors]: JSON.stringify(priors) }) }),
      ),
      timeBudgetMs: 1000,
    });
    const decided = await decide({
      candidates: [
        candidate({ recipe: recipe({ id: "eslint/eqeqeq" }) }),
        candidate({ recipe: recipe({ id: "eslint/never-seen" }) }),
      ],
      facts: facts(),
      history: new Map(),
      predictor,
      computeFeatures,
      thresholds: DEFAULT_THRESHOLDS,
    });
    const prior = decided.map((p) => p.features[featureIndex("recipe.prior.logit")] as number);
    const logit = (p: number) => Math.log(p / (1 - p));
    expect(prior[0]).toBeCloseTo(logit((2 + PRIOR_WEIGHT * 0.8) / (10 + PRIOR_WEIGHT)), 12);
    expect(prior[1]).toBeCloseTo(logit(0.8), 12);
    // The heuristic predictor has no model, so no priors: every recipe at the fallback rate.
    const plain = await decide({
      candidates: [candidate({ recipe: recipe({ id: "eslint/eqeqeq" }) })],
      facts: facts(),
      history: new Map(),
      predictor: createHeuristicPredictor(),
      computeFeatures,
      thresholds: DEFAULT_THRESHOLDS,
    });
    expect(plain[0]?.features[featureIndex("recipe.prior.logit")]).toBeCloseTo(logit(FALLBACK_RATE), 12);
  });

  it("inference throws", async () => {
    const { result } = await expectFallback(
      { enabled: true, modelPath: modelFile(fx.throwingModel()), timeBudgetMs: 1000 },
      "threw",
    );
    expect(result.modelVersion).toBe("fixture-1");
  });

  it("NaN", async () => {
    await expectFallback({ enabled: true, modelPath: modelFile(fx.nanModel()), timeBudgetMs: 1000 }, "nan");
  });

  it("value outside [0, 1]", async () => {
    await expectFallback(
      { enabled: true, modelPath: modelFile(fx.outOfRangeModel()), timeBudgetMs: 1000 },
      "out-of-range",
    );
  });

  it("time budget exceeded", async () => {
    await expectFallback({ enabled: true, modelPath: modelFile(fx.sigmoidModel()), timeBudgetMs: 1e-6 }, "timeout");
  });

  it("counts every batch the heuristic decides", async () => {
    const s = spies();
    const p = createHeuristicPredictor("disabled", s.options);
    await p.score(batch);
    await p.score(batch);
    expect(s.events.map((e) => e.cause)).toEqual(["disabled", "disabled"]);
  });
});

describe("predictor with a working model", () => {
  it("scores the batch with the model and the heuristic, in order", async () => {
    const weights = Array.from({ length: FEATURE_COUNT }, (_, i) => (i % 3) * 0.1 - 0.1);
    const path = modelFile(fx.sigmoidModel({ weights, bias: 0.3 }));
    const s = spies();
    const predictor = await createPredictor({ enabled: true, modelPath: path, timeBudgetMs: 1000, ...s.options });
    expect(predictor.status).toMatchObject({ loaded: true, modelVersion: "fixture-1", loadFailure: null });
    const result = await predictor.score(batch);
    expect(result.usedML).toBe(true);
    expect(result.fallbackCause).toBeNull();
    expect(result.modelVersion).toBe("fixture-1");
    expect(result.heuristic).toEqual(heuristicScores(batch));
    expect(result.ml).toHaveLength(batch.length);
    batch.forEach((row, i) => {
      const z = row.reduce((s, x, j) => s + Math.fround(x) * Math.fround(weights[j] as number), 0.3);
      const score = result.ml?.[i];
      expect(score?.trust).toBeCloseTo(1 / (1 + Math.exp(-z)), 5);
      expect(score?.confidence).toBeGreaterThanOrEqual(0);
      expect(score?.confidence).toBeLessThanOrEqual(1);
      expect(score?.reason).toMatch(/^model 0\.\d\d/);
    });
    expect(result.latencyMs).toBeGreaterThan(0);
    expect(s.events).toEqual([]);
    const empty = await predictor.score([]);
    expect(empty).toMatchObject({ ml: [], heuristic: [], usedML: true });
  });

  it("loads a model file once per process", async () => {
    const path = modelFile(fx.sigmoidModel());
    const a = await createPredictor({ enabled: true, modelPath: path, timeBudgetMs: 1000 });
    rmSync(path);
    const b = await createPredictor({ enabled: true, modelPath: path, timeBudgetMs: 1000 });
    expect(b.status.loaded).toBe(true);
    expect((await a.score(batch)).usedML).toBe(true);
    expect((await b.score(batch)).usedML).toBe(true);
  });

  it("rejects vectors that do not fit the schema: a defect of the caller", async () => {
    const p = createHeuristicPredictor();
    await expect(p.score([[1, 2, 3]])).rejects.toBeInstanceOf(FeatureVectorError);
    const bad = [...(batch[0] as number[])];
    bad[4] = Number.POSITIVE_INFINITY;
    await expect(p.score([bad])).rejects.toBeInstanceOf(FeatureVectorError);
  });
});
