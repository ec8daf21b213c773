import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { countRows, finishCycle, startCycle } from "../../src/db/queries/cycles.js";
import { setConsent, upsertRepository } from "../../src/db/queries/repositories.js";
import { consentEvents, outcomes, predictions } from "../../src/db/schema.js";
import type { CandidateResult } from "../../src/engine/types.js";
import { createTestDb, TEST_DB_KINDS, type TestDb } from "../helpers/db.js";

function result(i: number, success: boolean): CandidateResult {
  return {
    candidate: {
      key: `eslint/prefer-const@src/f${i}.ts`,
      recipe: {
        id: "eslint/prefer-const",
        family: "eslint",
        title: "t",
        category: "style",
        safety: "safe",
        params: {},
      },
      scope: "file",
      files: [
        { path: `src/f${i}.ts`, before: "let a = 1;\n", after: "const a = 1;\n", linesAdded: 1, linesRemoved: 1 },
      ],
      linesAdded: 1,
      linesRemoved: 1,
      targetFindings: 1,
      patchHash: `h${i}`,
    },
    prediction: {
      featureSchemaVersion: 2,
      features: [0.25, i / 10, 1],
      mlTrust: null,
      heuristicTrust: 0.7 + i / 100,
      trust: 0.7 + i / 100,
      tier: "review-suggested",
      usedML: false,
      fallbackCause: "missing",
      modelVersion: null,
      latencyMs: 0.05,
      confidence: 0.4,
      reason: "safe recipe",
    },
    outcome: {
      success,
      status: "verified",
      diagnosticsBefore: 2,
      diagnosticsAfter: success ? 2 : 3,
      newDiagnostics: success ? 0 : 1,
      lintBefore: 1,
      lintAfter: 0,
      newLintFindings: 0,
      targetBefore: 1,
      targetAfter: 0,
      tests: success ? "pass" : "unknown",
      ...(success ? {} : { testsReason: "not run", failureCause: "1 new type-check diagnostic" }),
      verificationScore: success ? 1 : 0.45,
      durationsMs: { apply: 0, typecheck: 10, lint: 5, tests: 100, total: 115 },
    },
  };
}

describe.each(TEST_DB_KINDS)("Learn on %s", (kind) => {
  let db: TestDb | undefined;
  afterEach(async () => {
    await db?.cleanup();
    db = undefined;
  });

  it("stores each prediction beside its own outcome, exactly, and a retry replaces them", async () => {
    db = await createTestDb(kind);
    const repo = await upsertRepository(db.db, { owner: "o", name: "r", mode: "shadow" });
    expect(await setConsent(db.db, repo.id, "dataCollection", true, { source: "operator", actor: "t" })).toBe(true);
    expect(await setConsent(db.db, repo.id, "dataCollection", true, { source: "operator", actor: "t" })).toBe(false);
    expect(await db.db.select().from(consentEvents)).toHaveLength(1);
    const cycle = await startCycle(db.db, { repositoryId: repo.id, runKey: "k", sha: "abc", trigger: "shadow" });
    const results = [result(1, true), result(2, false), result(3, true)];
    const input = {
      cycleId: cycle.id,
      repositoryId: repo.id,
      sha: "abc",
      status: "completed" as const,
      error: null,
      durationsMs: { total: 1 },
      facts: null,
      results,
      storeData: true,
    };
    expect(await finishCycle(db.db, input)).toEqual({ stored: true });
    const rows = await db.db
      .select({
        key: predictions.candidateKey,
        features: predictions.features,
        files: predictions.files,
        success: outcomes.success,
        cause: outcomes.failureCause,
        durations: outcomes.durationsMs,
      })
      .from(predictions)
      .innerJoin(outcomes, eq(outcomes.predictionId, predictions.id))
      .orderBy(predictions.candidateKey);
    expect(rows).toEqual([
      {
        key: "eslint/prefer-const@src/f1.ts",
        features: [0.25, 0.1, 1],
        files: ["src/f1.ts"],
        success: true,
        cause: null,
        durations: results[0]?.outcome?.durationsMs,
      },
      {
        key: "eslint/prefer-const@src/f2.ts",
        features: [0.25, 0.2, 1],
        files: ["src/f2.ts"],
        success: false,
        cause: "1 new type-check diagnostic",
        durations: results[1]?.outcome?.durationsMs,
      },
      {
        key: "eslint/prefer-const@src/f3.ts",
        features: [0.25, 0.3, 1],
        files: ["src/f3.ts"],
        success: true,
        cause: null,
        durations: results[2]?.outcome?.durationsMs,
      },
    ]);
    await finishCycle(db.db, { ...input, results: results.slice(0, 2) });
    expect(await countRows(db.db)).toMatchObject({ cycles: 1, predictions: 2, outcomes: 2 });
  });

  it("consent revoked before Learn: nothing of the cycle is stored", async () => {
    db = await createTestDb(kind);
    const repo = await upsertRepository(db.db, { owner: "o", name: "r", mode: "installed" });
    const cycle = await startCycle(db.db, { repositoryId: repo.id, runKey: "k2", sha: "abc", trigger: "push" });
    const out = await finishCycle(db.db, {
      cycleId: cycle.id,
      repositoryId: repo.id,
      sha: "abc",
      status: "completed",
      error: null,
      durationsMs: {},
      facts: null,
      results: [result(1, true)],
      storeData: true,
    });
    expect(out.stored).toBe(false);
    expect(await countRows(db.db)).toMatchObject({ cycles: 1, predictions: 0, outcomes: 0 });
  });
});
