/**
 * Recipes on probation, on real Postgres and real cycles: the records are stored outcomes (seeded as a long history
 * would leave them), read by the product's queries, and judged by the engine.
 */
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../src/db/client.js";
import { clearOverride, loadProbationRecords, setOverride } from "../../src/db/queries/probation.js";
import { setConsent, upsertRepository } from "../../src/db/queries/repositories.js";
import type { CycleDeps } from "../../src/engine/ports.js";
import { PROBATION, standingOf } from "../../src/engine/probation.js";
import { createCycleStore } from "../../src/runtime/cycle-store.js";
import { renderSummary, toJson } from "../../src/summary/render.js";
import { odavl } from "../helpers/cli.js";
import { createTestDb, TEST_DB_KINDS, type TestDb } from "../helpers/db.js";
import {
  cycleRequest,
  engineDeps,
  removeTempDirs,
  runCycle,
  smallProject,
  tempDir,
  writeRepo,
} from "../helpers/engine.js";

const RECIPE = "eslint/prefer-const";
let seq = 0;

/**
 * Stores `n` verified outcomes of `recipe` in repository `owner/name`, `minutesAgo` before now (later calls with a
 * smaller value are newer). `fail`: "lint" (a new finding), "typecheck" (a new diagnostic), or none.
 */
async function seed(
  db: Db,
  repo: string,
  n: number,
  o: { fail?: "lint" | "typecheck"; minutesAgo: number; recipe?: string },
): Promise<void> {
  const [owner, name] = repo.split("/") as [string, string];
  const r = await upsertRepository(db, { owner, name, mode: "shadow" });
  const at = new Date(Date.now() - o.minutesAgo * 60_000).toISOString();
  const runKey = `seed-${++seq}`;
  const newDiagnostics = o.fail === "typecheck" ? 1 : 0;
  const newLint = o.fail === "lint" ? 1 : 0;
  await db.execute(sql`
    with c as (
      insert into cycles (repository_id, run_key, trigger, status, started_at)
      values (${r.id}, ${runKey}, 'shadow', 'completed', ${at}::timestamptz) returning id
    ), p as (
      insert into predictions (cycle_id, repository_id, candidate_key, recipe_id, family, safety, scope, files,
                               lines_added, lines_removed, patch_hash, feature_schema_version, features,
                               heuristic_trust, trust, tier, used_ml, latency_ms, confidence, reason, created_at)
      select c.id, ${r.id}, ${runKey} || '-' || g, ${o.recipe ?? RECIPE}, 'eslint', 'safe', 'file', '["src/a.ts"]'::jsonb,
             1, 1, 'h' || g, 2, '{0}'::float8[], 0.5, 0.5, 'review-suggested', false, 1, 0.5, 'seeded', ${at}::timestamptz
        from c, generate_series(1, ${n}) g
      returning id
    )
    insert into outcomes (prediction_id, success, status, diagnostics_before, diagnostics_after, new_diagnostics,
                          lint_before, lint_after, new_lint_findings, target_before, target_after, tests,
                          verification_score, durations_ms, created_at)
    select p.id, ${o.fail === undefined}, 'verified', 0, ${newDiagnostics}, ${newDiagnostics}, 0, ${newLint},
           ${newLint}, 1, 0, 'pass', 1, '{}'::jsonb, ${at}::timestamptz
      from p`);
}

describe.runIf(TEST_DB_KINDS.includes("postgres"))("recipes on probation (Postgres)", () => {
  let db: TestDb;
  let dir: string;
  let deps: CycleDeps;
  beforeAll(async () => {
    db = await createTestDb("postgres");
    dir = join(tempDir(), "repo");
    writeRepo(dir, smallProject("node -e 0"));
    deps = { ...engineDeps(db.db), store: createCycleStore(db.db) };
    for (const name of ["repo", "muted", "active"]) {
      const r = await upsertRepository(db.db, { owner: "test", name, mode: "shadow" });
      await setConsent(db.db, r.id, "dataCollection", true, { source: "operator", actor: "test" });
    }
  });
  afterAll(async () => {
    await db?.cleanup();
    removeTempDirs();
  });

  const cycleOn = (name: string) =>
    runCycle(
      cycleRequest(dir, {
        recipeIds: [RECIPE],
        runTests: false,
        repository: { owner: "test", name, mode: "shadow" },
      }),
      deps,
    );

  it("a recipe failing above the threshold across repositories is shown manual-only with why, until its rate falls", async () => {
    // 10 of 40 runs failed elsewhere: 25%.
    await seed(db.db, "crowd/one", 30, { minutesAgo: 600 });
    await seed(db.db, "crowd/two", 10, { fail: "lint", minutesAgo: 500 });
    const onProbation = await cycleOn("repo");
    expect(onProbation.status).toBe("completed");
    expect(onProbation.standings).toEqual([
      { recipeId: RECIPE, status: "probation", reason: "fails verification in 25% of 40 runs" },
    ]);
    const [result] = onProbation.results;
    expect(result?.prediction.tier).toBe("manual-only");
    expect(result?.prediction.reason).toMatch(/^On probation: fails verification in 25% of 40 runs\. /);
    // Still verified: its outcomes are how it earns its way back.
    expect(result?.outcome?.success).toBe(true);
    const rendered = renderSummary(onProbation);
    expect(rendered.summary).toContain(
      "On probation, offered manual-only: `eslint/prefer-const` (fails verification in 25% of 40 runs).",
    );
    expect(rendered.summary).toContain("| manual-only |");
    expect(toJson(onProbation)).toMatchObject({ standings: [{ recipeId: RECIPE, status: "probation" }] });

    // 70 newer successes: 10 failures in 111 runs (the cycle above added one success) is 9%, under the threshold.
    await seed(db.db, "crowd/one", 70, { minutesAgo: 60 });
    const back = await cycleOn("repo");
    expect(back.standings).toBeUndefined();
    expect(back.results[0]?.prediction.reason).not.toContain("probation");
    expect(renderSummary(back).summary).not.toContain("probation");
  }, 300_000);

  it("counts only the latest runs across repositories, and a repository's own rate with enough runs there", async () => {
    const records = await loadProbationRecords(db.db, {
      repositoryId: null,
      recipeIds: [RECIPE, "eslint/old-failures", "eslint/here"],
      before: new Date(),
    });
    expect(records.get(RECIPE)).toMatchObject({ globalRuns: 112, globalFailures: 10 });
    // 100 old failures, then the latest 500 runs all succeed: not on probation.
    await seed(db.db, "crowd/one", 100, { fail: "lint", minutesAgo: 900, recipe: "eslint/old-failures" });
    await seed(db.db, "crowd/two", PROBATION.globalWindow, { minutesAgo: 800, recipe: "eslint/old-failures" });
    const old = await loadProbationRecords(db.db, {
      repositoryId: null,
      recipeIds: ["eslint/old-failures"],
      before: new Date(),
    });
    expect(old.get("eslint/old-failures")).toMatchObject({ globalRuns: PROBATION.globalWindow, globalFailures: 0 });
    expect(standingOf("eslint/old-failures", old.get("eslint/old-failures"))).toBeNull();
    // In one repository: 2 lint failures in 10 runs (20%), too few runs across repositories to count there.
    await seed(db.db, "local/own", 8, { minutesAgo: 700, recipe: "eslint/here" });
    await seed(db.db, "local/own", 2, { fail: "lint", minutesAgo: 690, recipe: "eslint/here" });
    const own = await upsertRepository(db.db, { owner: "local", name: "own", mode: "shadow" });
    const here = await loadProbationRecords(db.db, {
      repositoryId: own.id,
      recipeIds: ["eslint/here"],
      before: new Date(),
    });
    expect(standingOf("eslint/here", here.get("eslint/here"))).toEqual({
      recipeId: "eslint/here",
      status: "probation",
      reason: "fails verification in 20% of 10 runs in this repository",
    });
  });

  it("a recipe the type check rejects in one repository again and again is muted there and stays active elsewhere", async () => {
    // Successes elsewhere keep the rate across repositories under the threshold whatever is seeded below.
    await seed(db.db, "crowd/three", 100, { minutesAgo: 450 });
    await seed(db.db, "test/muted", 1, { minutesAgo: 400 });
    await seed(db.db, "test/muted", PROBATION.muteAfter, { fail: "typecheck", minutesAgo: 300 });
    // The same failures elsewhere, but a success since: not muted there.
    await seed(db.db, "test/active", PROBATION.muteAfter, { fail: "typecheck", minutesAgo: 300 });
    await seed(db.db, "test/active", 1, { minutesAgo: 200 });

    const muted = await cycleOn("muted");
    expect(muted.status).toBe("completed");
    expect(muted.results).toEqual([]);
    expect(muted.standings).toEqual([
      {
        recipeId: RECIPE,
        status: "muted",
        reason: `muted in this repository: the type check or the tests rejected it in its last ${PROBATION.muteAfter} runs here`,
      },
    ]);
    expect(renderSummary(muted).summary).toContain(
      "Muted in this repository, not offered: `eslint/prefer-const` (muted in this repository: the type check or the tests rejected it in its last 3 runs here).",
    );

    const active = await cycleOn("active");
    expect(active.standings).toBeUndefined();
    expect(active.results.map((r) => r.candidate.recipe.id)).toEqual([RECIPE]);
    expect(active.results[0]?.prediction.reason).not.toMatch(/probation|muted/);
  }, 300_000);

  it("the operator lists recipes on probation and muted, and overrides and clears", async () => {
    const env = { DATABASE_URL: db.url ?? "" };
    const listed = await odavl(env, "recipes", "probation");
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain("test/muted  eslint/prefer-const  muted: muted in this repository");
    expect(listed.stdout).toContain("local/own  eslint/here  manual-only: fails verification in 20% of 10 runs");
    expect(listed.stdout).not.toContain("test/active");

    const over = await odavl(env, "recipes", "probation", "--override", RECIPE);
    expect(over.code).toBe(0);
    const unmuted = await cycleOn("muted");
    expect(unmuted.standings).toBeUndefined();
    expect(unmuted.results.map((r) => r.candidate.recipe.id)).toEqual([RECIPE]);
    const json = JSON.parse((await odavl(env, "recipes", "probation", "--json")).stdout);
    expect(json.overrides).toMatchObject([{ recipeId: RECIPE }]);

    // The cycle above succeeded in test/muted, which ends the streak: cleared, the recipe is in good standing there.
    expect((await odavl(env, "recipes", "probation", "--clear", RECIPE)).stdout).toContain("override cleared");
    expect(await clearOverride(db.db, RECIPE)).toBe(false);
    await seed(db.db, "test/muted", PROBATION.muteAfter, { fail: "typecheck", minutesAgo: 0 });
    expect((await cycleOn("muted")).standings?.[0]?.status).toBe("muted");
    await setOverride(db.db, RECIPE, "test");
    expect((await cycleOn("muted")).standings).toBeUndefined();

    const bad = await odavl(env, "recipes", "probation", "--override", "eslint/no-such-rule");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('unknown recipe "eslint/no-such-rule"');
  }, 300_000);
});

describe("probation thresholds", () => {
  const record = (o: Partial<Parameters<typeof standingOf>[1] & object>) => ({
    globalRuns: 0,
    globalFailures: 0,
    repoRuns: 0,
    repoFailures: 0,
    repoHardFailureStreak: 0,
    overridden: false,
    ...o,
  });
  it("needs enough runs, and a rate strictly above 10%, which never reads as 10%", () => {
    expect(standingOf("r", record({ globalRuns: 29, globalFailures: 29 }))).toBeNull();
    expect(standingOf("r", record({ globalRuns: 300, globalFailures: 30 }))).toBeNull();
    expect(standingOf("r", record({ globalRuns: 300, globalFailures: 31 }))?.reason).toBe(
      "fails verification in 10.3% of 300 runs",
    );
    expect(standingOf("r", record({ repoRuns: 9, repoFailures: 9 }))).toBeNull();
    expect(standingOf("r", record({ repoHardFailureStreak: PROBATION.muteAfter - 1 }))).toBeNull();
    expect(standingOf("r", record({ repoHardFailureStreak: PROBATION.muteAfter }))?.status).toBe("muted");
    expect(
      standingOf("r", record({ repoHardFailureStreak: 9, globalRuns: 500, globalFailures: 500, overridden: true })),
    ).toBeNull();
  });
});
