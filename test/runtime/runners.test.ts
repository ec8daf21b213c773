/**
 * Real cycles, with the real sandbox at its default limits, on repositories that test themselves with vitest, jest
 * (ts-jest), mocha (tsx) and node --test (tsx): biome/use-optional-chain turns `counter && counter.hits` into
 * `counter?.hits`, which returns undefined instead of 0 for a zero counter, and a test checks exactly that.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_REPO_CONFIG } from "../../src/engine/repo-config.js";
import { renderSummary } from "../../src/summary/render.js";
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

describe(".github/odavl.yml tests settings reach the cycle", () => {
  it("runs the configured command after its setup, and a failing setup is the reason the tests did not count", async () => {
    const dir = join(tempDir(), "configured");
    buildRunnerRepo(dir, "node-test");
    const command = "test -f setup-ran && node --import tsx --test test/stats.test.ts";
    const ok = await runCycle(
      cycleRequest(dir, {
        recipeIds: ["eslint/prefer-const"],
        config: { ...DEFAULT_REPO_CONFIG, tests: { command, setup: "touch setup-ran", timeout: 120 } },
      }),
      engineDeps(null),
    );
    expect(ok.facts).toMatchObject({ testCommand: command, testsPassing: "pass" });

    const broken = await runCycle(
      cycleRequest(dir, {
        recipeIds: ["eslint/prefer-const"],
        config: { ...DEFAULT_REPO_CONFIG, tests: { command, setup: "exit 3" } },
      }),
      engineDeps(null),
    );
    expect(broken.facts?.testsPassing).toBe("fail");
    const outcome = broken.results[0]?.outcome;
    expect(outcome).toMatchObject({ success: true, tests: "unknown", coverage: null });
    expect(outcome?.testsReason).toBe(
      "tests did not pass before the change: setup failed before the tests (`exit 3`): exit code 3",
    );
    expect(renderSummary(broken).summary).toContain(
      "Tests did not count: tests did not pass before the change: setup failed before the tests \\(\\`exit 3\\`\\): exit code 3.",
    );
  }, 300_000);
});
