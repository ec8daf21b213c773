/**
 * Real cycles, with the real sandbox at its default limits, on repositories that test themselves with vitest, jest
 * (ts-jest), mocha (tsx) and node --test (tsx): biome/use-optional-chain turns `counter && counter.hits` into
 * `counter?.hits`, which returns undefined instead of 0 for a zero counter, and a test checks exactly that.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cycleRequest, engineDeps, removeTempDirs, runCycle, tempDir } from "../helpers/engine.js";
import { buildRunnerRepo, type RunnerKind } from "../helpers/runner-repo.js";

const RECIPES = ["biome/use-optional-chain", "eslint/prefer-const"];

/** What each runner can do: run only related tests, and have its coverage mapped back to the .ts lines. */
const CASES: { kind: RunnerKind; runner: string; related: boolean; coverage: boolean }[] = [
  { kind: "vitest", runner: "vitest", related: true, coverage: true },
  { kind: "jest", runner: "jest", related: true, coverage: false },
  { kind: "mocha", runner: "mocha", related: false, coverage: false },
  { kind: "node-test", runner: "node", related: false, coverage: true },
];

afterAll(() => removeTempDirs());

describe.each(CASES)("a cycle on a $kind repository", ({ kind, runner, related, coverage }) => {
  it("passes at baseline, records the breaking fix as failed by its tests, and says what ran", async () => {
    const dir = join(tempDir(), kind);
    buildRunnerRepo(dir, kind);
    const summary = await runCycle(cycleRequest(dir, { recipeIds: RECIPES }), engineDeps(null));
    expect(summary.status).toBe("completed");
    expect(summary.facts?.testsPassing).toBe("pass");
    const byRecipe = new Map(summary.results.map((r) => [r.candidate.recipe.id, r.outcome]));

    const chain = byRecipe.get("biome/use-optional-chain");
    expect(chain).toMatchObject({
      success: false,
      newDiagnostics: 0,
      tests: "fail",
      testsRun: related ? "related" : "full",
    });
    expect(chain?.testsReason).toBe(`1 failed (${runner})`);
    expect(chain?.failureCause).toBe(`tests failed: 1 failed (${runner})`);

    // prefer-const changes src/unused.ts, which no test imports.
    const unused = byRecipe.get("eslint/prefer-const");
    expect(unused).toMatchObject({ success: true, tests: "pass", testsRun: "full" });
    if (related) expect(unused?.testsReason).toBe("no tests related to the changed files: ran the full suite");
    else expect(unused?.testsReason).toBeUndefined();

    if (coverage) {
      // hitsOf's line runs in the tests, label's does not; nothing in src/unused.ts runs.
      expect(chain?.coverage).toEqual({ changedLines: 2, coveredLines: 1 });
      expect(unused?.coverage).toEqual({ changedLines: 1, coveredLines: 0 });
    }
  }, 300_000);
});
