/**
 * Real cycles, with the real sandbox at its default limits, on repositories that test themselves with vitest, jest
 * (ts-jest), mocha (tsx) and node --test (tsx): biome/use-optional-chain turns `counter && counter.hits` into
 * `counter?.hits`, which returns undefined instead of 0 for a zero counter, and a test checks exactly that.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { commitAll } from "../../src/cli/demo-repo.js";
import { DEFAULT_REPO_CONFIG } from "../../src/engine/repo-config.js";
import { createCycleTools } from "../../src/runtime/tools.js";
import { createSandbox } from "../../src/sandbox/index.js";
import { renderSummary } from "../../src/summary/render.js";
import { cycleRequest, engineDeps, removeTempDirs, runCycle, tempDir, wrapTestSessions } from "../helpers/engine.js";
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
  // Each fix tested alone (as data collection does): what its own run relates to it (tests in groups: below).
  it("passes at baseline, records the breaking fix as failed by its tests, and says what ran", async () => {
    const dir = join(tempDir(), kind);
    buildRunnerRepo(dir, kind);
    const summary = await runCycle(cycleRequest(dir, { recipeIds: RECIPES, groupTests: false }), engineDeps(null));
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

describe("tests in groups", () => {
  /** The vitest repository plus two more untested files, each with a finding of its own recipe. */
  function groupsRepo(name: string): string {
    const dir = join(tempDir(), name);
    buildRunnerRepo(dir, "vitest");
    writeFileSync(
      join(dir, "src/eq.ts"),
      "export function same(a: number, b: number): boolean {\n  return a == b;\n}\n",
    );
    writeFileSync(
      join(dir, "src/var.ts"),
      "export function twice(n: number): number {\n  var total = n;\n  total += n;\n  return total;\n}\n",
    );
    // A second test file, of src/eq.ts, which every fix keeps passing.
    writeFileSync(
      join(dir, "test/eq.test.ts"),
      'import { expect, test } from "vitest";\nimport { same } from "../src/eq";\n\ntest("same", () => {\n  expect(same(2, 2)).toBe(true);\n});\n',
    );
    commitAll(dir, "more files");
    return dir;
  }
  const recipeIds = [...RECIPES, "eslint/eqeqeq", "eslint/no-var"];

  it("fixes of different files are tested together; the breaking one is still failed by its own run", async () => {
    const deps = engineDeps(null);
    const asked: (readonly string[] | null)[] = [];
    const summary = await runCycle(cycleRequest(groupsRepo("grouped"), { recipeIds }), {
      ...deps,
      tools: {
        ...deps.tools,
        async startTests(root, options) {
          const session = await deps.tools.startTests(root, options);
          if ("unavailable" in session) return session;
          return {
            ...session,
            run: (edits, o) => {
              asked.push(o?.only ?? null);
              return session.run(edits, o);
            },
          };
        },
      },
    });
    expect(summary.facts?.testsPassing).toBe("pass");
    const byRecipe = new Map(summary.results.map((r) => [r.candidate.recipe.id, r.outcome]));
    expect(byRecipe.get("biome/use-optional-chain")).toMatchObject({
      success: false,
      tests: "fail",
      testsReason: "1 failed (vitest)",
    });
    // Four candidates, each on its own file. The three fixes that may change behaviour (unsafe recipes: eqeqeq,
    // no-var, the optional chain) are tested apart from the safe one (prefer-const), which passes in a run of its
    // own. The three fail together (vitest names the failing test file), then eqeqeq and no-var pass as one run and
    // the optional chain fails alone, both runs of the one test file that failed (test/eq.test.ts passed with all
    // three changes).
    const passed = ["eslint/prefer-const", "eslint/eqeqeq", "eslint/no-var"].map((id) => byRecipe.get(id));
    for (const o of passed) expect(o).toMatchObject({ success: true, tests: "pass" });
    const within = "ran the 1 test file that failed in a larger group (its other tests passed there with this change)";
    expect(passed.filter((o) => o?.testsReason === `passed in one run with 1 other candidate; ${within}`)).toHaveLength(
      2,
    );
    expect(byRecipe.get("eslint/prefer-const")?.testsReason ?? "").not.toMatch(/passed in one run/);
    expect(asked.filter((a) => a === null)).toHaveLength(2);
    expect(asked.filter((a) => a !== null)).toEqual([["test/stats.test.ts"], ["test/stats.test.ts"]]);
  }, 300_000);

  it("data collection tests every candidate alone", async () => {
    const summary = await runCycle(
      cycleRequest(groupsRepo("alone"), { recipeIds, groupTests: false }),
      engineDeps(null),
    );
    const outcomes = summary.results.map((r) => r.outcome);
    expect(outcomes).toHaveLength(4);
    for (const o of outcomes) expect(o?.testsReason ?? "").not.toMatch(/passed in one run/);
    expect(outcomes.filter((o) => o?.tests === "pass")).toHaveLength(3);
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

describe("coverage collection stays out of the repository's way", () => {
  it("tests that list the repository's files, and a coverage tool that empties NODE_V8_COVERAGE first, still pass", async () => {
    const dir = join(tempDir(), "coverage-apart");
    buildRunnerRepo(dir, "node-test");
    // As tap's coverage check and package-content tests do: every file under the repository must be one it has.
    writeFileSync(
      join(dir, "test/files.test.ts"),
      `import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";

function walk(dir: string, rel = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.name === "node_modules" || e.name === ".git"
      ? []
      : e.isDirectory()
        ? walk(join(dir, e.name), rel + e.name + "/")
        : [rel + e.name],
  );
}

test("the repository holds only its own files", () => {
  assert.deepEqual(walk(process.cwd()).sort(), ${JSON.stringify(
    [
      ".gitignore",
      "clean-coverage.mjs",
      "package.json",
      "src/stats.ts",
      "src/unused.ts",
      "test/files.test.ts",
      "test/stats.test.ts",
      "tsconfig.json",
    ].sort(),
  )});
});
`,
    );
    // As c8 does: it takes NODE_V8_COVERAGE as its temporary directory and empties it before the tests start.
    writeFileSync(
      join(dir, "clean-coverage.mjs"),
      `import { mkdirSync, rmSync } from "node:fs";
const dir = process.env.NODE_V8_COVERAGE;
if (dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}
`,
    );
    commitAll(dir, "a listing test and a coverage cleaner");
    const command = "node clean-coverage.mjs && node --import tsx --test test/stats.test.ts test/files.test.ts";
    const summary = await runCycle(
      cycleRequest(dir, {
        recipeIds: RECIPES,
        config: { ...DEFAULT_REPO_CONFIG, tests: { command } },
      }),
      engineDeps(null),
    );
    expect(summary.facts).toMatchObject({ testCommand: command, testsPassing: "pass" });
    const byRecipe = new Map(summary.results.map((r) => [r.candidate.recipe.id, r.outcome]));
    // The coverage of the tests' processes is still read: hitsOf's line runs, label's does not.
    expect(byRecipe.get("biome/use-optional-chain")?.coverage).toEqual({ changedLines: 2, coveredLines: 1 });
  }, 300_000);

  it("a baseline that fails only while coverage is collected passes without it, and then has no coverage", async () => {
    const dir = join(tempDir(), "coverage-breaks");
    buildRunnerRepo(dir, "node-test");
    // As a test with a time budget fails under V8's counters (rrule allows 200 ms a case), deterministically.
    writeFileSync(
      join(dir, "test/budget.test.ts"),
      `import { test } from "node:test";
import assert from "node:assert/strict";

test("runs within its budget", () => assert.equal(process.env.NODE_V8_COVERAGE, undefined));
`,
    );
    commitAll(dir, "a test that coverage breaks");
    const command = "node --import tsx --test test/stats.test.ts test/budget.test.ts";
    // The cycle hears of the second run as it starts (it stops test runs started early: they went the first way).
    const deps = engineDeps(null);
    let retries = 0;
    wrapTestSessions(deps, (session) => ({
      ...session,
      baseline: (o) =>
        session.baseline({
          ...o,
          onRetry: () => {
            retries++;
            o?.onRetry?.();
          },
        }),
    }));
    const summary = await runCycle(
      cycleRequest(dir, { recipeIds: RECIPES, config: { ...DEFAULT_REPO_CONFIG, tests: { command } } }),
      deps,
    );
    expect(summary.facts).toMatchObject({ testCommand: command, testsPassing: "pass" });
    expect(retries).toBe(1);
    const chain = summary.results.find((r) => r.candidate.recipe.id === "biome/use-optional-chain")?.outcome;
    // The candidates' own verdicts stand; only the coverage answer is missing.
    expect(chain).toMatchObject({ success: false, tests: "fail", coverage: null });
  }, 300_000);
});

describe("jest's cache lasts across a session's runs", () => {
  it("the baseline fills it, a candidate's run finds it, and it goes with the session", async () => {
    const dir = join(tempDir(), "jest-cache");
    buildRunnerRepo(dir, "jest");
    const scratch = tempDir("odavl-scratch-");
    const tools = createCycleTools({
      sandbox: createSandbox({ allowUnsandboxed: false }),
      sandboxProblem: null,
      scratchDir: scratch,
    });
    const session = await tools.startTests(dir);
    if ("unavailable" in session) throw new Error(session.unavailable);
    try {
      const baseline = await session.baseline();
      expect(baseline.status).toBe("pass");
      const cacheFiles = () => {
        const [caches] = readdirSync(scratch).filter((name) => name.startsWith("caches-"));
        if (!caches) return [];
        return readdirSync(join(scratch, caches, "jest"), { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile())
          .map((e) => join(e.parentPath, e.name));
      };
      // jest's haste map and the compiled test and source files (ts-jest's output), kept outside the copy.
      const afterBaseline = cacheFiles();
      expect(afterBaseline.some((f) => /haste-map/.test(f))).toBe(true);
      expect(afterBaseline.filter((f) => /jest-transform-cache-.*\/(stats|statstest)_\w+$/.test(f)).length).toBe(2);
      const mtimes = new Map(afterBaseline.map((f) => [f, statSync(f).mtimeMs]));

      // A change to a file no test imports: its run compiles nothing the baseline had not compiled.
      const run = await session.run([
        {
          path: "src/unused.ts",
          before: readFileSync(join(dir, "src/unused.ts"), "utf8"),
          after: "export const unused = 1;\n",
        },
      ]);
      expect(run.status).toBe("pass");
      const rewritten = afterBaseline.filter((f) => statSync(f).mtimeMs !== mtimes.get(f));
      // The run kept its haste map here (it saw src/unused.ts change and wrote the map again): this directory was
      // its cache. And it compiled nothing again: every transform the baseline made served it.
      expect(rewritten.filter((f) => /haste-map/.test(f))).toHaveLength(1);
      expect(rewritten.filter((f) => /jest-transform-cache/.test(f))).toEqual([]);
    } finally {
      await session.close();
    }
    expect(readdirSync(scratch).filter((name) => name.startsWith("caches-"))).toEqual([]);
  }, 300_000);
});
