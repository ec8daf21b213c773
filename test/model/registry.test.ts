import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DbHandle, openDb } from "../../src/db/client.js";
import {
  currentModel,
  listModels,
  ModelExistsError,
  ModelNotFoundError,
  PromotionRefusedError,
  promoteModel,
  registerModel,
} from "../../src/model/registry.js";
import type { ModelCard } from "../../src/model/train/card.js";
import { trainModels } from "../../src/model/train/train.js";
import { syntheticSamples } from "./synthetic.js";

let handle: DbHandle;
let base: ModelCard;

beforeAll(async () => {
  handle = await openDb({ dataDir: "memory" });
  base = trainModels(syntheticSamples({ repositories: 4, perRepository: 60 }), {
    kinds: ["logistic-regression"],
    learningCurve: [],
  }).card;
});

afterAll(async () => {
  await handle.close();
});

function card(
  version: string,
  logLoss: number,
  auc: number,
  featureSchemaVersion = base.featureSchemaVersion,
): ModelCard {
  const c = structuredClone(base);
  c.modelVersion = version;
  c.featureSchemaVersion = featureSchemaVersion;
  c.heldOut.pooled.model = { ...c.heldOut.pooled.model, logLoss, auc };
  return c;
}

describe("model registry", () => {
  it("registers candidates and promotes the first one", async () => {
    const db = handle.db;
    const row = await registerModel(db, card("m1", 0.4, 0.8), "/models/m1.onnx");
    expect(row).toMatchObject({
      version: "m1",
      status: "candidate",
      kind: "logistic-regression",
      path: "/models/m1.onnx",
    });
    expect(row.metrics).toMatchObject({ logLoss: 0.4, auc: 0.8 });
    expect(row.metrics["heuristic.samples"]).toBe(base.heldOut.pooled.heuristic.samples);
    await expect(registerModel(db, card("m1", 0.4, 0.8), "/x")).rejects.toBeInstanceOf(ModelExistsError);
    expect(await currentModel(db)).toBeNull();
    const result = await promoteModel(db, "m1");
    expect(result.previous).toBeNull();
    expect((await currentModel(db))?.version).toBe("m1");
  });

  it("refuses a model worse on held-out repositories, saying which metric and by how much", async () => {
    const db = handle.db;
    await registerModel(db, card("m2-worse-loss", 0.45, 0.85), "/models/m2.onnx");
    await registerModel(db, card("m3-worse-both", 0.5, 0.7), "/models/m3.onnx");
    const err = await promoteModel(db, "m2-worse-loss").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromotionRefusedError);
    const refused = err as PromotionRefusedError;
    expect(refused.currentVersion).toBe("m1");
    expect(refused.objections).toHaveLength(1);
    expect(refused.objections[0]).toMatchObject({ kind: "worse", metric: "logLoss", candidate: 0.45, current: 0.4 });
    expect((refused.objections[0] as { by: number }).by).toBeCloseTo(0.05, 12);
    expect(refused.message).toMatch(/log-loss 0\.4500 is 0\.0500 higher/);
    const both = (await promoteModel(db, "m3-worse-both").catch((e: unknown) => e)) as PromotionRefusedError;
    expect(both.objections.map((o) => (o.kind === "worse" ? o.metric : o.kind))).toEqual(["logLoss", "auc"]);
    expect((await currentModel(db))?.version).toBe("m1");
  });

  it("refuses a model of another feature schema", async () => {
    await registerModel(handle.db, card("m-old-schema", 0.1, 0.99, 1), "/models/old.onnx");
    const err = (await promoteModel(handle.db, "m-old-schema").catch((e: unknown) => e)) as PromotionRefusedError;
    expect(err.objections).toEqual([{ kind: "schema", candidate: 1, expected: base.featureSchemaVersion }]);
  });

  it("accepts a forced promotion and a better model; exactly one is current", async () => {
    const db = handle.db;
    const forced = await promoteModel(db, "m3-worse-both", { force: true });
    expect(forced.previous?.version).toBe("m1");
    expect(forced.overridden.length).toBe(2);
    await registerModel(db, card("m4-better", 0.3, 0.9), "/models/m4.onnx");
    const better = await promoteModel(db, "m4-better");
    expect(better.overridden).toEqual([]);
    const all = await listModels(db);
    expect(all.filter((m) => m.status === "current").map((m) => m.version)).toEqual(["m4-better"]);
    expect(Object.fromEntries(all.map((m) => [m.version, m.status]))).toMatchObject({
      m1: "retired",
      "m3-worse-both": "retired",
      "m2-worse-loss": "candidate",
    });
    // Promoting the current model again changes nothing.
    expect((await promoteModel(db, "m4-better")).previous).toBeNull();
    await expect(promoteModel(db, "nope")).rejects.toBeInstanceOf(ModelNotFoundError);
  });
});
