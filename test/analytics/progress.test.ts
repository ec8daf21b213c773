import { sql, TransactionRollbackError } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadProgress, type Progress, renderProgress } from "../../src/analytics/progress.js";
import type { DbOrTx } from "../../src/db/client.js";
import { createTestDb, TEST_DB_KINDS, type TestDb } from "../helpers/db.js";
import { CHECK_NOW, CLEAN_REPOS, cleanSamples } from "./datasets.js";
import { insertDataset } from "./fixtures.js";

class Done extends Error {}

describe.each(TEST_DB_KINDS)("progress on %s", (kind) => {
  let db: TestDb;
  let ids: number[];

  beforeAll(async () => {
    db = await createTestDb(kind);
    ({ predictionIds: ids } = await insertDataset(db.db, CLEAN_REPOS, cleanSamples()));
  });
  afterAll(async () => {
    await db?.cleanup();
  });

  async function inTransaction(change: (tx: DbOrTx) => Promise<void>, run: (tx: DbOrTx) => Promise<Progress>) {
    let out: Progress | undefined;
    try {
      await db.db.transaction(async (tx) => {
        await change(tx);
        out = await run(tx);
        throw new Done();
      });
    } catch (err) {
      if (!(err instanceof Done) && !(err instanceof TransactionRollbackError)) throw err;
    }
    return out as Progress;
  }

  it("counts samples against the target, per repository and per recipe, with the 24-hour rate and an ETA", async () => {
    const p = await loadProgress(db.db, { target: 100, now: CHECK_NOW });
    expect(p).toMatchObject({
      target: 100,
      samples: 80,
      progress: 0.8,
      scoredByModel: 80,
      scoredByModelShare: 1,
      completed: 80,
      completedShare: 1,
      verificationErrors: 0,
      repositories: 2,
      recipes: 4,
    });
    // Made 1, 7, 13 and 19 hours ago (i = 0..3): 4 in 24 hours, 1/6 an hour; 20 to go take 120 hours.
    expect(p.last24h).toEqual({ samples: 4, completed: 4, perHour: 4 / 24 });
    expect(p.eta.remaining).toBe(20);
    expect(p.eta.hours).toBeCloseTo(120, 10);
    expect(p.eta.at).toBe("2025-06-20T12:00:00.000Z");
    // Even i in alpha, odd in beta; failures where i % 3 == 0: 14 of alpha's (multiples of 6 up to 78), 13 of beta's.
    expect(p.perRepository).toEqual([
      { name: "octo/alpha", samples: 40, completed: 40, successRate: 26 / 40, lastAt: "2025-06-15T11:00:00.000Z" },
      { name: "octo/beta", samples: 40, completed: 40, successRate: 27 / 40, lastAt: "2025-06-15T05:00:00.000Z" },
    ]);
    // Recipe i % 4; failures at i % 12 = 0 (7), 9 (6), 6 (7), 3 (7) for recipes 0, 1, 2, 3. Ties by name.
    expect(p.perRecipe.map((r) => [r.name, r.samples, r.successRate])).toEqual([
      ["biome/use-optional-chain", 20, 13 / 20],
      ["eslint/dot-notation", 20, 13 / 20],
      ["eslint/prefer-const", 20, 13 / 20],
      ["ts/remove-unused-imports", 20, 14 / 20],
    ]);
    const text = renderProgress(p);
    expect(text).toContain("samples:            80 / 100 (80.0%)");
    expect(text).toContain("last 24 hours:      4 samples, 4 completed (0.2 an hour)");
    expect(text).toContain("ETA:                2025-06-20 12:00 UTC, in 5.0 days");
  });

  it("measures a collection that began less than 24 hours ago over the time since its first sample", async () => {
    const p = await inTransaction(
      async (tx) => {
        await tx.execute(
          sql`update predictions set created_at = ${CHECK_NOW.toISOString()}::timestamptz - interval '2 hours'`,
        );
      },
      (tx) => loadProgress(tx, { target: 100, now: CHECK_NOW }),
    );
    // 80 samples in the 2 hours since the first: 40 an hour, so the 20 left take half an hour.
    expect(p.last24h.samples).toBe(80);
    expect(p.last24h.perHour).toBeCloseTo(40, 10);
    expect(p.eta.hours).toBeCloseTo(0.5, 10);
    expect(p.eta.basis).toBe("at the rate since the first sample 2.0 hours ago, 40.0 samples an hour");
  });

  it("shares scored by the model and completed; the target reached; no recent samples", async () => {
    const p = await inTransaction(
      async (tx) => {
        await tx.execute(
          sql`update predictions set used_ml = false where id in (${sql.join(
            ids.slice(10, 18).map((i) => sql`${i}`),
            sql`, `,
          )})`,
        );
        await tx.execute(
          sql`delete from outcomes where prediction_id in (${sql.join(
            ids.slice(20, 24).map((i) => sql`${i}`),
            sql`, `,
          )})`,
        );
        await tx.execute(sql`update outcomes set status = 'error' where prediction_id in (${ids[30]}, ${ids[31]})`);
      },
      (tx) => loadProgress(tx, { target: 50, now: CHECK_NOW, top: 1 }),
    );
    expect(p.scoredByModelShare).toBeCloseTo(72 / 80, 12);
    expect(p.completed).toBe(74);
    expect(p.completedShare).toBeCloseTo(74 / 80, 12);
    expect(p.verificationErrors).toBe(2);
    expect(p.progress).toBe(1);
    expect(p.eta).toMatchObject({ remaining: 0, hours: 0, basis: "the target is reached" });
    expect(p.perRepository).toHaveLength(1);
    expect(renderProgress(p)).toContain("per repository (top 1 of 2):");

    const later = await loadProgress(db.db, { target: 100, now: new Date("2025-07-15T00:00:00Z") });
    expect(later.last24h.samples).toBe(0);
    expect(later.eta).toMatchObject({ remaining: 20, hours: null, at: null });
    expect(renderProgress(later)).toContain("ETA:                no samples in the last 24 hours: no estimate");
  });
});
