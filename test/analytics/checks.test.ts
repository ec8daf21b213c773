import { randomUUID } from "node:crypto";
import { sql, TransactionRollbackError } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type DataCheckReport,
  type DataCheckThresholds,
  renderDataChecks,
  runDataChecks,
} from "../../src/analytics/checks.js";
import type { DbOrTx } from "../../src/db/client.js";
import { FEATURE_COUNT, FEATURE_SCHEMA_VERSION } from "../../src/model/features.js";
import { createTestDb, TEST_DB_KINDS, type TestDb } from "../helpers/db.js";
import { CHECK_NOW, CLEAN_REPOS, cleanSamples } from "./datasets.js";
import { insertDataset } from "./fixtures.js";

/** 28 samples per accuracy window: judge the change from 20. */
const THRESHOLDS: Partial<DataCheckThresholds> = { minAccuracySamples: 20 };

class Planted extends Error {}

describe.each(TEST_DB_KINDS)("check-data on %s", (kind) => {
  let db: TestDb;
  let ids: number[];

  beforeAll(async () => {
    db = await createTestDb(kind);
    ({ predictionIds: ids } = await insertDataset(db.db, CLEAN_REPOS, cleanSamples()));
  });
  afterAll(async () => {
    await db?.cleanup();
  });

  const id = (i: number): number => ids[i] as number;
  const statusOf = (r: DataCheckReport) => Object.fromEntries(r.checks.map((c) => [c.id, c.status]));
  const failing = (r: DataCheckReport) => r.checks.filter((c) => c.status === "fail").map((c) => c.id);

  /** Plants a defect in a transaction, checks inside it, and rolls it back so that every test starts clean. */
  async function withDefect(plant: (tx: DbOrTx) => Promise<void>, t = THRESHOLDS): Promise<DataCheckReport> {
    let report: DataCheckReport | undefined;
    try {
      await db.db.transaction(async (tx) => {
        await plant(tx);
        report = await runDataChecks(tx, { now: CHECK_NOW, thresholds: t });
        throw new Planted();
      });
    } catch (err) {
      if (!(err instanceof Planted) && !(err instanceof TransactionRollbackError)) throw err;
    }
    return report as DataCheckReport;
  }

  it("passes every check on clean data", async () => {
    const r = await runDataChecks(db.db, { now: CHECK_NOW, thresholds: THRESHOLDS });
    expect(statusOf(r)).toEqual({
      "feature-vectors": "pass",
      "stale-predictions": "pass",
      completion: "pass",
      duplicates: "pass",
      "model-usage": "pass",
      latency: "pass",
      accuracy: "pass",
    });
    expect(r.ok).toBe(true);
    const acc = r.checks.find((c) => c.id === "accuracy");
    // Last 7 days: i = 0..27, wrong at 9 and 19: 26/28. The 7 days before: i = 28..55, wrong at 29, 39, 49: 25/28.
    expect(acc?.details).toMatchObject({ recent: { samples: 28 }, prior: { samples: 28 } });
    expect(acc?.value).toBeCloseTo((26 / 28 - 25 / 28) * 100, 10);
    const completion = r.checks.find((c) => c.id === "completion");
    // Predictions older than 24 h: 6i + 1 >= 24, i.e. i >= 4: 76 of them, all verified.
    expect(completion?.details).toMatchObject({ completed: 76, old: 76 });
    const tables = Object.fromEntries(r.tables.map((t) => [t.table, t.rows]));
    expect(tables).toMatchObject({ predictions: 80, outcomes: 80, cycles: 80, repositories: 2, models: 0 });
    expect(r.tables.find((t) => t.table === "predictions")?.bytes).toBeGreaterThan(0);
  });

  it("finds invalid feature vectors: wrong length, wrong version, NaN, infinity, missing value, out of range", async () => {
    const r = await withDefect(async (tx) => {
      await tx.execute(sql`update predictions set features = features[1:${FEATURE_COUNT - 1}] where id = ${id(1)}`);
      await tx.execute(sql`update predictions set feature_schema_version = 1 where id = ${id(2)}`);
      await tx.execute(sql`update predictions set features[3] = 'NaN' where id = ${id(3)}`);
      await tx.execute(sql`update predictions set features[4] = 'Infinity' where id = ${id(4)}`);
      await tx.execute(sql`update predictions set features[5] = null where id = ${id(5)}`);
      await tx.execute(sql`update predictions set features[6] = 1.5 where id = ${id(6)}`);
      await tx.execute(sql`update predictions set features[7] = -0.25 where id = ${id(7)}`);
      // Schema v2 rows are judged by v2's rules: 39 values in [0, 1].
      const v2 = (last: number) => sql.raw(`array[${[...new Array(38).fill(0.5), last].join(",")}]::float8[]`);
      await tx.execute(sql`update predictions set feature_schema_version = 2, features = ${v2(1)} where id = ${id(8)}`);
      await tx.execute(sql`update predictions set feature_schema_version = 2, features = ${v2(2)} where id = ${id(9)}`);
    });
    expect(failing(r)).toEqual(["feature-vectors"]);
    const c = r.checks.find((x) => x.id === "feature-vectors");
    // NaN, infinity and a missing value are all "not finite"; 1.5, -0.25 and the v2 row's 2 are out of [0, 1].
    expect(c?.details).toMatchObject({ invalid: 8, version: 1, length: 1, "not-finite": 3, "out-of-range": 3 });
    expect(c?.examples[0]).toBe(
      `prediction ${id(1)}: expected ${FEATURE_COUNT} features (schema v${FEATURE_SCHEMA_VERSION}), got ${FEATURE_COUNT - 1}`,
    );
    expect(c?.examples).toContain(`prediction ${id(2)}: feature schema v1, expected v${FEATURE_SCHEMA_VERSION} or v2`);
    expect(c?.examples.join("\n")).not.toContain(`prediction ${id(8)}:`);
    expect(c?.examples.join("\n")).toMatch(/1\.5 outside \[0, 1\]/);
  });

  it("finds predictions left without an outcome past the threshold (a share above 1%)", async () => {
    // One of 76 old predictions loses its outcome: 1.3% > 1%; completion is still 75/76 = 98.7%.
    const r = await withDefect(async (tx) => {
      await tx.execute(sql`delete from outcomes where prediction_id = ${id(40)}`);
    });
    expect(failing(r)).toEqual(["stale-predictions"]);
    const c = r.checks.find((x) => x.id === "stale-predictions");
    expect(c?.value).toBeCloseTo(1 / 76, 12);
    expect(c?.examples[0]).toMatch(new RegExp(`^prediction ${id(40)} \\(octo/alpha, eslint/prefer-const\\)`));
    // A fresh prediction without outcome is not stale yet.
    const fresh = await withDefect(async (tx) => {
      await tx.execute(sql`delete from outcomes where prediction_id = ${id(0)}`);
    });
    expect(failing(fresh)).toEqual([]);
  });

  it("finds outcome completion under 95%", async () => {
    // Five verification errors among the 76 old predictions (all older than 14 days): 71/76 = 93.4%.
    const r = await withDefect(async (tx) => {
      for (const i of [60, 61, 62, 63, 64]) {
        await tx.execute(sql`update outcomes set status = 'error' where prediction_id = ${id(i)}`);
      }
    });
    expect(failing(r)).toEqual(["completion"]);
    expect(r.checks.find((x) => x.id === "completion")?.value).toBeCloseTo(71 / 76, 12);
  });

  it("finds duplicates: the same candidate of the same commit recorded by another cycle", async () => {
    const r = await withDefect(async (tx) => {
      // A second cycle re-runs prediction 70's commit and records the same candidate (older than 14 days, so that
      // only the duplicate check can notice).
      const cycleId = randomUUID();
      await tx.execute(sql`insert into cycles (id, repository_id, run_key, sha, trigger, status, data_stored, facts)
        select ${cycleId}::uuid, repository_id, ${randomUUID()}, sha, 'shadow', 'completed', true, facts
        from cycles where id = (select cycle_id from predictions where id = ${id(70)})`);
      await tx.execute(sql`insert into predictions (cycle_id, repository_id, sha, candidate_key, recipe_id, family, safety,
          scope, files, lines_added, lines_removed, patch_hash, feature_schema_version, features, ml_trust,
          heuristic_trust, trust, tier, used_ml, fallback_cause, model_version, latency_ms, confidence, reason, created_at)
        select ${cycleId}::uuid, repository_id, sha, candidate_key, recipe_id, family, safety, scope, files, lines_added,
          lines_removed, patch_hash, feature_schema_version, features, ml_trust, heuristic_trust, trust, tier, used_ml,
          fallback_cause, model_version, latency_ms, confidence, reason, created_at + interval '1 minute'
        from predictions where id = ${id(70)}`);
      await tx.execute(sql`insert into outcomes (prediction_id, success, status, diagnostics_before, diagnostics_after,
          new_diagnostics, lint_before, lint_after, new_lint_findings, target_before, target_after, tests,
          verification_score, durations_ms)
        select currval(pg_get_serial_sequence('predictions', 'id')), success, status, diagnostics_before,
          diagnostics_after, new_diagnostics, lint_before, lint_after, new_lint_findings, target_before, target_after,
          tests, verification_score, durations_ms from outcomes where prediction_id = ${id(70)}`);
    });
    expect(failing(r)).toEqual(["duplicates"]);
    const c = r.checks.find((x) => x.id === "duplicates");
    expect(c?.details).toEqual({ excess: 1, groups: 1 });
    expect(c?.examples[0]).toMatch(
      new RegExp(`^octo/alpha@sha-70 biome/use-optional-chain:all: predictions ${id(70)}, \\d+$`),
    );
  });

  it("finds model usage under 90% in the last 7 days", async () => {
    // Four of the 28 recent predictions fell back to the heuristic: 24/28 = 85.7%.
    const r = await withDefect(async (tx) => {
      for (const i of [0, 1, 2, 3]) {
        await tx.execute(
          sql`update predictions set used_ml = false, fallback_cause = 'missing', ml_trust = null where id = ${id(i)}`,
        );
      }
    });
    expect(failing(r)).toEqual(["model-usage"]);
    const c = r.checks.find((x) => x.id === "model-usage");
    expect(c?.value).toBeCloseTo(24 / 28, 12);
    expect(c?.examples).toEqual(["4 fell back to the heuristic: missing"]);
  });

  it("finds p99 prediction latency of 100 ms or more", async () => {
    // 28 recent predictions: the nearest-rank p99 is the 28th value, so one slow prediction is enough.
    const r = await withDefect(async (tx) => {
      await tx.execute(sql`update predictions set latency_ms = 150 where id = ${id(5)}`);
    });
    expect(failing(r)).toEqual(["latency"]);
    expect(r.checks.find((x) => x.id === "latency")?.value).toBe(150);
  });

  it("finds a drop in 7-day accuracy of more than 5 points", async () => {
    // Four right predictions of the last 7 days become wrong: 22/28 = 78.6% against 25/28 = 89.3% (-10.7 points).
    const r = await withDefect(async (tx) => {
      for (const i of [0, 1, 2, 4]) {
        await tx.execute(sql`update outcomes set success = not success where prediction_id = ${id(i)}`);
      }
    });
    expect(failing(r)).toEqual(["accuracy"]);
    expect(r.checks.find((x) => x.id === "accuracy")?.value).toBeCloseTo((22 / 28 - 25 / 28) * 100, 10);
    // With fewer samples than the threshold in a window, the change is shown but not judged.
    const unjudged = await withDefect(
      async (tx) => {
        for (const i of [0, 1, 2, 4]) {
          await tx.execute(sql`update outcomes set success = not success where prediction_id = ${id(i)}`);
        }
      },
      { minAccuracySamples: 100 },
    );
    expect(unjudged.checks.find((x) => x.id === "accuracy")?.status).toBe("skip");
    expect(unjudged.ok).toBe(true);
  });

  it("thresholds are configurable", async () => {
    const r = await runDataChecks(db.db, {
      now: CHECK_NOW,
      thresholds: { ...THRESHOLDS, maxLatencyP99Ms: 5, minModelUsage: 1 },
    });
    // Latency is 5 ms everywhere: "under 5 ms" fails; usage is 100%, which meets "at least 100%".
    expect(failing(r)).toEqual(["latency"]);
    expect(r.ok).toBe(false);
    const text = renderDataChecks(r);
    expect(text).toMatch(/^data check at 2025-06-15T12:00:00.000Z: FAILED/);
    expect(text).toMatch(/FAIL +latency +p99 prediction latency 5.00 ms over 28 predictions/);
  });
});
