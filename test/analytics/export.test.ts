import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { sql, TransactionRollbackError } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  csvHeader,
  type ExportOptions,
  exportDataset,
  parseExportFormat,
  streamWriter,
} from "../../src/analytics/export.js";
import { AnalyticsOptionError } from "../../src/analytics/options.js";
import type { DbOrTx } from "../../src/db/client.js";
import { V2_FEATURE_NAMES, v2ToV3Features } from "../../src/model/convert.js";
import { readDataset } from "../../src/model/dataset.js";
import { FEATURE_COUNT, FEATURE_SCHEMA_VERSION, featureNames } from "../../src/model/features.js";
import { createTestDb, TEST_DB_KINDS, type TestDb } from "../helpers/db.js";
import { LEDGER_REPOS, ledgerSamples } from "./datasets.js";
import { insertDataset, validVector } from "./fixtures.js";

class Done extends Error {}

async function collect(db: DbOrTx, options: ExportOptions) {
  const chunks: string[] = [];
  const result = await exportDataset(db, options, async (c) => {
    chunks.push(c);
  });
  return { result, text: chunks.join("") };
}

describe.each(TEST_DB_KINDS)("export on %s", (kind) => {
  let db: TestDb;
  let ids: number[];
  let dir: string;

  beforeAll(async () => {
    db = await createTestDb(kind);
    ({ predictionIds: ids } = await insertDataset(db.db, LEDGER_REPOS, ledgerSamples()));
    dir = mkdtempSync(join(tmpdir(), "odavl-export-"));
  });
  afterAll(async () => {
    await db?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  async function inTransaction<T>(change: (tx: DbOrTx) => Promise<void>, run: (tx: DbOrTx) => Promise<T>): Promise<T> {
    let out: T | undefined;
    try {
      await db.db.transaction(async (tx) => {
        await change(tx);
        out = await run(tx);
        throw new Done();
      });
    } catch (err) {
      if (!(err instanceof Done) && !(err instanceof TransactionRollbackError)) throw err;
    }
    return out as T;
  }

  it("JSON Lines: every verified prediction, named features, both scores, the outcome; readable by training", async () => {
    const { result, text } = await collect(db.db, { format: "jsonl" });
    // 45 samples + 3 heuristic-only + 1 timeout have a verified outcome; the error and the 2 without are left out.
    expect(result).toEqual({ rows: 49, skippedInvalid: 0, converted: 0, featureSchemaVersion: FEATURE_SCHEMA_VERSION });
    const lines = text.trimEnd().split("\n");
    expect(lines).toHaveLength(49);
    const first = JSON.parse(lines[0] as string);
    expect(first).toMatchObject({
      predictionId: ids[0],
      repository: "acme/small",
      recipeId: "eslint/prefer-const",
      featureSchemaVersion: FEATURE_SCHEMA_VERSION,
      heuristicTrust: 0.7,
      mlTrust: 0.9,
      trust: 0.9,
      tier: "auto-apply",
      usedMl: true,
      latencyMs: 1,
      success: true,
      tests: "pass",
      createdAt: "2025-03-01T10:00:00.000Z",
    });
    // The patch identifies reruns and twins for training; nothing derived from the outcome beside the label.
    expect(first.patchHash).toMatch(/^patch-/);
    expect(first).not.toHaveProperty("verificationScore");
    expect(first.features).toEqual(validVector(0));
    expect(Object.keys(first.namedFeatures)).toEqual([...featureNames()]);
    expect(first.namedFeatures[featureNames()[1] as string]).toBe(validVector(0)[1]);
    // The heuristic-only rows carry a null model score.
    expect(lines.map((l) => JSON.parse(l).mlTrust).filter((v) => v === null)).toHaveLength(4);
    const path = join(dir, `export-${kind}.jsonl`);
    writeFileSync(path, text);
    let read = 0;
    for await (const row of readDataset(path)) {
      read++;
      expect(row.features).toHaveLength(FEATURE_COUNT);
    }
    expect(read).toBe(49);
  });

  it("rows stored in schema v2 are exported converted to the current schema; an invalid v2 vector is left out", async () => {
    const old = V2_FEATURE_NAMES.map((_, i) => (i % 4) / 4);
    const literal = sql.raw(`array[${old.join(",")}]::float8[]`);
    const { result, text } = await inTransaction(
      async (tx) => {
        await tx.execute(
          sql`update predictions set feature_schema_version = 2, features = ${literal} where id = ${ids[0]}`,
        );
        await tx.execute(
          sql`update predictions set feature_schema_version = 2, features = array[0.5]::float8[] where id = ${ids[1]}`,
        );
      },
      (tx) => collect(tx, { format: "jsonl" }),
    );
    expect(result).toMatchObject({ rows: 48, skippedInvalid: 1, converted: 1 });
    const first = JSON.parse(text.split("\n")[0] as string);
    expect(first.predictionId).toBe(ids[0]);
    expect(first.featureSchemaVersion).toBe(FEATURE_SCHEMA_VERSION);
    const expected = v2ToV3Features(old);
    expect(first.features).toHaveLength(FEATURE_COUNT);
    first.features.forEach((v: number, i: number) => {
      expect(v).toBeCloseTo(expected[i] as number, 12);
    });
  });

  it("CSV: a header of named columns, one line per row, fields quoted where needed", async () => {
    const { text } = await inTransaction(
      async (tx) => {
        await tx.execute(sql`update predictions set recipe_id = 'odd,"rule"' where id = ${ids[0]}`);
      },
      (tx) => collect(tx, { format: "csv" }),
    );
    const lines = text.trimEnd().split("\n");
    expect(lines).toHaveLength(50);
    expect(`${lines[0]}\n`).toBe(csvHeader());
    const header = (lines[0] as string).split(",");
    expect(header.slice(0, 10)).toEqual([
      "predictionId",
      "repository",
      "sha",
      "recipeId",
      "family",
      "safety",
      "scope",
      "patchHash",
      "createdAt",
      "featureSchemaVersion",
    ]);
    expect(header.slice(10, 10 + FEATURE_COUNT)).toEqual([...featureNames()]);
    expect(header.slice(10 + FEATURE_COUNT)).toEqual([
      "heuristicTrust",
      "mlTrust",
      "trust",
      "tier",
      "usedMl",
      "modelVersion",
      "latencyMs",
      "success",
      "tests",
      "applied",
      "pullRequest",
    ]);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${ids[0]},acme/small,sha-0,"odd,""rule""",eslint,safe,all,patch-\\d+,2025-03-01T10:00:00.000Z,${FEATURE_SCHEMA_VERSION},`,
      ),
    );
    // The maintainers' answers: no Apply press, no pull request.
    expect(lines[1]).toMatch(/,0\.7,0\.9,0\.9,auto-apply,true,test-model,1,true,pass,false,$/);
  });

  it("--since, pages of any size, and rows with an invalid vector left out", async () => {
    const since = await collect(db.db, { format: "jsonl", since: new Date("2025-03-02T00:00:00Z") });
    // Day 2: K5-K9 (9) and the timeout (1).
    expect(since.result.rows).toBe(10);
    const paged = await collect(db.db, { format: "jsonl", pageSize: 7 });
    const got = paged.text
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l).predictionId as number);
    expect(got).toHaveLength(49);
    expect([...got].sort((a, b) => a - b)).toEqual(got);
    expect(new Set(got).size).toBe(49);
    const invalid = await inTransaction(
      async (tx) => {
        await tx.execute(sql`update predictions set features[2] = 'NaN' where id = ${ids[3]}`);
      },
      (tx) => collect(tx, { format: "csv" }),
    );
    expect(invalid.result).toMatchObject({ rows: 48, skippedInvalid: 1 });
  });

  it("a stream that fails (the reader went away) rejects the export instead of crashing the process", async () => {
    const closed = new Writable({
      highWaterMark: 16,
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
      },
    });
    await expect(exportDataset(db.db, { format: "jsonl", pageSize: 5 }, streamWriter(closed))).rejects.toMatchObject({
      code: "EPIPE",
    });
  });

  it("refuses an unknown format with a typed error", async () => {
    expect(() => parseExportFormat("xml")).toThrow(AnalyticsOptionError);
    expect(() => parseExportFormat("xml")).toThrow('--format: unknown format "xml" (expected one of jsonl, csv)');
    expect(() => parseExportFormat(undefined)).toThrow("--format: required");
    await expect(collect(db.db, { format: "parquet" as "csv" })).rejects.toThrow(AnalyticsOptionError);
  });
});
