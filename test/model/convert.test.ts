/**
 * Schema v2 rows in schema v3 (convert.ts), several dataset files combined (combine.ts), and the committed datasets
 * read through both.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { combineRows, readDatasets } from "../../src/model/combine.js";
import {
  SchemaConversionError,
  toCurrentSchema,
  V2_FEATURE_NAMES,
  v2ToV3Features,
  v2VectorProblem,
} from "../../src/model/convert.js";
import { type DatasetRow, readDataset, writeDataset } from "../../src/model/dataset.js";
import { withoutDuplicates } from "../../src/model/duplicates.js";
import {
  FEATURE_COUNT,
  FEATURE_SCHEMA_VERSION,
  featureIndex,
  featureNames,
  validateFeatureVector,
} from "../../src/model/features.js";
import { heuristicLogit } from "../../src/model/heuristic.js";

const ROOT = resolve(import.meta.dirname, "../..");
const COMMITTED = ["data/trust-dataset-v2.jsonl.gz", "data/trust-dataset-collected.jsonl.gz"].map((p) =>
  resolve(ROOT, p),
);
const dir = mkdtempSync(join(tmpdir(), "odavl-convert-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A v2 vector: every feature 0 but those given by name. */
function v2(values: Record<string, number>): number[] {
  return V2_FEATURE_NAMES.map((n) => values[n] ?? 0);
}

const logit = (p: number) => Math.log(p / (1 - p));

describe("schema v2 rows in schema v3", () => {
  it("keeps the recipe, history and change features, drops the repository's description, adds the rest", () => {
    const old = v2({
      "recipe.family.eslint": 1,
      "recipe.category.style": 1,
      "recipe.unsafe": 1,
      "recipe.crowd.successRate": 0.8,
      "recipe.crowd.runs": 0.3,
      "history.repo.successRate": 0.7,
      "change.files": 0.2,
      "change.touchesExportedApi": 1,
      "repo.size": 0.6,
      "repo.baselineDiagnostics": 0.4,
      "repo.ts.versionKnown": 1,
      "repo.ts.atLeast45": 1,
      "repo.ts.emitDecoratorMetadata": 1,
    });
    const v = v2ToV3Features(old);
    expect(v).toHaveLength(FEATURE_COUNT);
    expect(validateFeatureVector(v)).toEqual([]);
    for (const name of featureNames()) {
      const i = V2_FEATURE_NAMES.indexOf(name as (typeof V2_FEATURE_NAMES)[number]);
      if (i >= 0) expect(v[featureIndex(name)]).toBe(old[i]);
    }
    // emitDecoratorMetadata alone: 0.4 of the 1.5 the options can cost.
    expect(v[featureIndex("repo.ts.optionRisk")]).toBeCloseTo(0.4 / 1.5, 12);
    expect(v[featureIndex("heuristic.logit")]).toBeCloseTo(heuristicLogit(v), 12);
    expect(v[featureIndex("recipe.prior.logit")]).toBeCloseTo(logit(0.92), 12);
    expect(v[featureIndex("recipe.prior.runs")]).toBe(0);
    // TypeScript known and older than 4.5 counts; unknown does not.
    const oldTs = v2ToV3Features(v2({ "repo.ts.versionKnown": 1 }));
    expect(oldTs[featureIndex("repo.ts.optionRisk")]).toBeCloseTo(0.5 / 1.5, 12);
    expect(v2ToV3Features(v2({}))[featureIndex("repo.ts.optionRisk")]).toBe(0);
  });

  it("refuses what is not a v2 vector, and versions it cannot convert, naming them", () => {
    expect(v2VectorProblem([1, 2])?.message).toMatch(/expected 39 features \(schema v2\), got 2/);
    expect(v2VectorProblem(v2({ "repo.size": 2 }))).toEqual({
      kind: "out-of-range",
      message: "repo.size: 2 outside [0, 1]",
    });
    expect(v2VectorProblem(v2({}))).toBeNull();
    expect(() => v2ToV3Features(v2({ "change.files": Number.NaN }))).toThrow(SchemaConversionError);
    const row: DatasetRow = {
      repository: "acme/a",
      featureSchemaVersion: 1,
      features: [1],
      heuristicTrust: 0.9,
      success: true,
    };
    expect(() => toCurrentSchema(row)).toThrow(/feature schema v1 cannot be converted to v3/);
    const current = { ...row, featureSchemaVersion: FEATURE_SCHEMA_VERSION, features: v2ToV3Features(v2({})) };
    expect(toCurrentSchema(current)).toBe(current);
  });

  it("scores every committed v2 row with the heuristic exactly as it was scored then", async () => {
    let rows = 0;
    for (const path of COMMITTED) {
      for await (const row of readDataset(path)) {
        // Rows a checkpoint exported after the schema moved on are stored converted already.
        expect([2, FEATURE_SCHEMA_VERSION]).toContain(row.featureSchemaVersion);
        const v = toCurrentSchema(row).features;
        expect(validateFeatureVector(v)).toEqual([]);
        expect(v[featureIndex("heuristic.logit")]).toBeCloseTo(logit(row.heuristicTrust), 9);
        rows++;
      }
    }
    expect(rows).toBeGreaterThan(4000);
  });
});

describe("reading a dataset", () => {
  it("keeps only training's fields by default, and every field when asked (tools that rewrite the file)", async () => {
    const path = COMMITTED[1] as string;
    const plain = (await readDataset(path).next()).value as Record<string, unknown>;
    const full = (await readDataset(path, { keepAllFields: true }).next()).value as Record<string, unknown>;
    expect(plain).not.toHaveProperty("tests");
    expect(plain).not.toHaveProperty("namedFeatures");
    expect(full).toHaveProperty("tests");
    expect(full).toMatchObject(plain);
    // The line as written, fields in their order: a tool that writes it back changes nothing.
    const line = gunzipSync(readFileSync(path)).toString("utf8").split("\n")[0] as string;
    expect(JSON.stringify(full)).toBe(line);
  });
});

describe("combining dataset files", () => {
  const row = (over: Partial<DatasetRow>): DatasetRow => ({
    repository: "acme/a",
    sha: "c1",
    recipeId: "r",
    featureSchemaVersion: 2,
    features: v2({}),
    heuristicTrust: 0.9,
    success: true,
    createdAt: "2026-01-01T00:00:00.000Z",
    ...over,
  });

  it("a later file's rows of a commit replace an earlier file's; other commits and versions are kept", () => {
    const early = [row({}), row({ recipeId: "s" }), row({ sha: "c2" }), row({ sha: null })];
    const late = [row({ success: false, createdAt: "2026-02-01T00:00:00.000Z", patchHash: "p" })];
    const skipped = row({ sha: "c3", featureSchemaVersion: 1, features: [1] });
    const { rows, replacedRows, skippedRows, used } = combineRows([[...early, skipped], late]);
    expect(replacedRows).toBe(2);
    expect(skippedRows).toBe(1);
    expect(used).toEqual([2, 1]);
    expect(rows.map((r) => [r.sha, r.success])).toEqual([
      ["c2", true],
      [null, true],
      ["c1", false],
    ]);
    expect(rows.every((r) => r.featureSchemaVersion === FEATURE_SCHEMA_VERSION)).toBe(true);
  });

  it("names the file and row of a v2 vector it cannot convert", () => {
    expect(() => combineRows([[row({})], [row({ features: [0.5] })]], ["a.jsonl", "b.jsonl"])).toThrow(
      /b\.jsonl, row 1 \(acme\/a\): expected 39 features/,
    );
  });

  it("reads files in order; the committed datasets combine into one training set without constant features", async () => {
    const a = join(dir, "a.jsonl.gz");
    const b = join(dir, "b.jsonl");
    await writeDataset(a, [row({}), row({ sha: "c2" })]);
    await writeDataset(b, [row({ success: false })]);
    const combined = await readDatasets([a, b]);
    expect(combined.files).toEqual([
      { path: a, rows: 2, used: 1 },
      { path: b, rows: 1, used: 1 },
    ]);
    await expect(readDatasets([])).rejects.toThrow(RangeError);

    const committed = await readDatasets(COMMITTED);
    const kept = withoutDuplicates(committed.rows).rows;
    expect(new Set(kept.map((r) => r.repository)).size).toBeGreaterThanOrEqual(20);
    // The prior columns are computed in training; every other feature varies in the data.
    const constant = featureNames().filter(
      (name, i) => !name.startsWith("recipe.prior.") && new Set(kept.map((r) => r.features[i])).size === 1,
    );
    expect(constant).toEqual([]);
  });
});
