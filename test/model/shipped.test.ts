/**
 * The shipped model (models/trust-predictor.*) against the datasets committed beside it (data/): the card's
 * counts meet what the default model promises, the datasets hold only derived data, and training on them again
 * (combined, schema v2 rows converted to v3) reproduces the shipped model, its version, its held-out figures, its
 * recipe priors and its gate.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { CSV_HEAD, CSV_TAIL } from "../../src/analytics/export.js";
import { readDatasets } from "../../src/model/combine.js";
import { type DatasetRow, readDataset } from "../../src/model/dataset.js";
import { withoutDuplicates } from "../../src/model/duplicates.js";
import { FEATURE_SCHEMA_VERSION } from "../../src/model/features.js";
import type { ModelCard } from "../../src/model/train/card.js";
import { trainFromJsonl } from "../../src/model/train/run.js";

const ROOT = resolve(import.meta.dirname, "../..");
/** The committed datasets, in the order they train the model (a later file's commits replace an earlier one's). */
const DATASET_FILES = ["data/trust-dataset-v2.jsonl.gz", "data/trust-dataset-collected.jsonl.gz"];
const DATASETS = DATASET_FILES.map((p) => resolve(ROOT, p));
const MODEL = resolve(ROOT, "models/trust-predictor.onnx");
const card = JSON.parse(readFileSync(resolve(ROOT, "models/trust-predictor.json"), "utf8")) as ModelCard;

/**
 * The fields a dataset row may hold (what `odavl export` writes): features, scores and outcomes, never code.
 * `verificationScore` was exported before it was removed (it gave the label away); readers ignore it.
 */
const ROW_KEYS = new Set<string>([...CSV_HEAD, "features", "namedFeatures", ...CSV_TAIL, "verificationScore"]);

describe("the shipped model", () => {
  it("is trained on at least 3,000 real outcomes from at least 20 repositories, as its card says", async () => {
    expect(card.featureSchemaVersion).toBe(FEATURE_SCHEMA_VERSION);
    expect(card.data.samples).toBeGreaterThanOrEqual(3000);
    expect(card.data.repositories).toBeGreaterThanOrEqual(20);

    const all: DatasetRow[] = [];
    for (const path of DATASETS) for await (const row of readDataset(path)) all.push(row);
    // One training row per run: reruns of a patch on a commit are left out, and each commit comes from one file.
    const kept = withoutDuplicates((await readDatasets(DATASETS)).rows).rows;
    const rows = kept.length;
    const positives = kept.filter((r) => r.success).length;
    const repositories = new Set(kept.map((r) => r.repository));
    expect(all.some((r) => "verificationScore" in r)).toBe(false);
    // The reader keeps only what training needs; the file's own lines are checked for what else they hold.
    const unexpected = new Set<string>();
    for (const path of DATASETS) {
      for (const line of gunzipSync(readFileSync(path)).toString("utf8").split("\n")) {
        if (!line) continue;
        for (const key of Object.keys(JSON.parse(line) as object)) if (!ROW_KEYS.has(key)) unexpected.add(key);
      }
    }
    expect([...unexpected]).toEqual([]);
    expect({ rows, positives, repositories: repositories.size }).toEqual({
      rows: card.data.samples,
      positives: card.data.positives,
      repositories: card.data.repositories,
    });
  });

  it(`is what \`odavl train --dataset ${DATASET_FILES.join(",")} --out models --name trust-predictor --seed 1\` reproduces`, async () => {
    const { result, skippedRows } = await trainFromJsonl(DATASETS, { seed: 1 });
    expect(skippedRows).toBe(0);
    expect(result.card.modelVersion).toMatch(/^v3-[0-9a-f]{8}$/);
    // The priors it ships: every recipe of the data, counted once per run.
    expect(result.card.recipePriors).toEqual(card.recipePriors);
    expect(Object.keys(card.recipePriors?.recipes ?? {}).length).toBeGreaterThan(20);
    expect(result.card.modelVersion).toBe(card.modelVersion);
    expect(result.card.kind).toBe(card.kind);
    expect(result.card.gate).toEqual(card.gate);
    expect(result.card.heldOut.comparison).toEqual(card.heldOut.comparison);
    expect(result.card.heldOut.pooled).toEqual(card.heldOut.pooled);
    expect(result.card.selection).toEqual(card.selection);
    expect(Buffer.from(result.onnx).equals(readFileSync(MODEL))).toBe(true);
  }, 900_000);
});
