import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MetadataKey } from "../../src/model/onnx/export.js";
import { decodeModelInfo } from "../../src/model/onnx/model.js";
import { createPredictor, releaseModels } from "../../src/model/predictor.js";
import type { Interval, ModelCard } from "../../src/model/train/card.js";
import { gateFromCard } from "../../src/model/train/gate.js";
import { trainModels } from "../../src/model/train/train.js";
import * as fx from "./onnx-fixtures.js";
import { syntheticSamples } from "./synthetic.js";

const dir = mkdtempSync(join(tmpdir(), "odavl-gate-"));
let card: ModelCard;
let onnx: Uint8Array;

beforeAll(() => {
  ({ card, onnx } = trainModels(syntheticSamples({ repositories: 5, perRepository: 60, seed: 2 }), {
    kinds: ["logistic-regression"],
    learningCurve: [],
    resamples: 100,
  }));
});

afterAll(async () => {
  await releaseModels();
  rmSync(dir, { recursive: true, force: true });
});

const above: Interval = { value: 0.03, low: 0.01, high: 0.05 };

/** The card with every gain of the comparison set to `gain`, and one of them to `one` when given. */
function withGains(gain: Interval, one?: { view: "meanPerFold" | "pooled"; metric: "auc" | "logLoss"; to: Interval }) {
  const c = structuredClone(card);
  const comparison = c.heldOut.comparison;
  if (!comparison) throw new Error("the card has no comparison");
  for (const view of ["meanPerFold", "pooled"] as const) {
    comparison[view].improvement = { auc: gain, logLoss: gain };
  }
  if (one) comparison[one.view].improvement[one.metric] = one.to;
  return c;
}

describe("the gate", () => {
  it("opens when every AUC and log-loss gain over the heuristic has its 95% interval above zero", () => {
    expect(gateFromCard(withGains(above))).toEqual({ open: true, reasons: [] });
  });

  it("closes when any one interval reaches zero or below, naming it", () => {
    for (const view of ["meanPerFold", "pooled"] as const) {
      for (const metric of ["auc", "logLoss"] as const) {
        const gate = gateFromCard(withGains(above, { view, metric, to: { value: 0.02, low: 0, high: 0.04 } }));
        expect(gate.open).toBe(false);
        expect(gate.reasons).toHaveLength(1);
        expect(gate.reasons[0]).toContain(metric === "auc" ? "AUC gain" : "log-loss gain");
        expect(gate.reasons[0]).toContain(view === "pooled" ? "pooled" : "mean per fold");
      }
    }
    // A better point estimate does not open it when its interval reaches below zero.
    expect(gateFromCard(withGains({ value: 0.05, low: -0.001, high: 0.1 })).open).toBe(false);
    // A card from before the comparison keeps it closed.
    const old = structuredClone(card);
    delete old.heldOut.comparison;
    expect(gateFromCard(old).open).toBe(false);
  });

  it("is computed from the trained card's own figures and travels inside the model file", () => {
    expect(card.gate).toEqual(gateFromCard(card));
    const meta = decodeModelInfo(onnx).metadataProps;
    expect(JSON.parse(meta[MetadataKey.gate] as string)).toEqual(card.gate);
  });

  it("a closed gate: the model runs beside the heuristic, which decides with cause not-promoted", async () => {
    const closed = join(dir, "closed.onnx");
    writeFileSync(
      closed,
      fx.sigmoidModel({
        meta: fx.metadata({ [MetadataKey.gate]: JSON.stringify({ open: false, reasons: ["pooled AUC gain ..."] }) }),
      }),
    );
    const p = await createPredictor({ enabled: true, modelPath: closed, timeBudgetMs: 1000 });
    const rows = syntheticSamples({ repositories: 1, perRepository: 3 }).map((s) => s.features);
    const batch = await p.score(rows);
    expect(batch).toMatchObject({ usedML: false, fallbackCause: "not-promoted", modelVersion: "fixture-1" });
    expect(batch.ml).toHaveLength(3);

    const open = join(dir, "open.onnx");
    writeFileSync(open, fx.sigmoidModel());
    expect(
      await (await createPredictor({ enabled: true, modelPath: open, timeBudgetMs: 1000 })).score(rows),
    ).toMatchObject({ usedML: true, fallbackCause: null });

    // A model without a gate (trained before it) has no card figures that let it decide.
    const { [MetadataKey.gate]: _dropped, ...ungated } = fx.metadata();
    const legacy = join(dir, "legacy.onnx");
    writeFileSync(legacy, fx.sigmoidModel({ meta: ungated }));
    expect(
      await (await createPredictor({ enabled: true, modelPath: legacy, timeBudgetMs: 1000 })).score(rows),
    ).toMatchObject({ usedML: false, fallbackCause: "not-promoted" });
  });
});
