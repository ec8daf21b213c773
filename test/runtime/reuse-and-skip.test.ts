/**
 * Real cycles on a vitest repository (test helpers' runner repository): candidates share one copy of the checkout,
 * put back between them, and a candidate whose changed files compile to the baseline's JavaScript keeps the
 * baseline's passing tests without running them, except when the cycle is an Apply, which runs the whole suite.
 */
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { commitAll } from "../../src/cli/demo-repo.js";
import type { CycleTools } from "../../src/engine/ports.js";
import { cycleRequest, engineDeps, removeTempDirs, runCycle, tempDir } from "../helpers/engine.js";
import { buildRunnerRepo } from "../helpers/runner-repo.js";

const RECIPES = ["biome/use-optional-chain", "eslint/prefer-const", "eslint/no-inferrable-types"];
const SAME_JS = "not run: the changed files compile to the same JavaScript as at baseline, where the tests passed";

afterAll(() => removeTempDirs());

/**
 * The runner repository plus an inferrable annotation in src/stats.ts and a test that fails when an earlier run's
 * file is still in its copy (it imports src/stats.ts, so it is among the related tests too).
 */
function buildRepo(): string {
  const dir = join(tempDir(), "vitest");
  buildRunnerRepo(dir, "vitest");
  appendFileSync(join(dir, "src/stats.ts"), "\nexport const LIMIT: number = 10;\n");
  writeFileSync(
    join(dir, "test/clean.test.ts"),
    `import { existsSync, writeFileSync } from "node:fs";
import { expect, test } from "vitest";
import { LIMIT } from "../src/stats.js";

test("every run starts from the checkout as it is", () => {
  expect(existsSync("left-by-a-run")).toBe(false);
  writeFileSync("left-by-a-run", String(LIMIT));
});
`,
  );
  commitAll(dir, "inferrable annotation and a clean-copy test");
  return dir;
}

/**
 * startTests of the real tools, with the session's baseline (its start and end) and its runs' ends observed, and
 * some of the session's answers replaced.
 */
function observedTests(
  tools: CycleTools,
  on: {
    baseline?: (at: "start" | "launched" | "done") => void;
    run?: (edits: readonly { path: string; after: string }[]) => void;
  },
  overrides: { checksTypes?: () => boolean } = {},
): CycleTools["startTests"] {
  return async (root, options) => {
    const session = await tools.startTests(root, options);
    if ("unavailable" in session) return session;
    return {
      ...session,
      ...overrides,
      baseline: async (options) => {
        on.baseline?.("start");
        const r = await session.baseline({
          onLaunch: () => {
            on.baseline?.("launched");
            options?.onLaunch?.();
          },
        });
        on.baseline?.("done");
        return r;
      },
      run: async (edits, options) => {
        const r = await session.run(edits, options);
        on.run?.(edits);
        return r;
      },
    };
  };
}

describe("verifying candidates in one reused copy", () => {
  it("puts the copy back between runs and skips the run of a type-only change, saying why", async () => {
    // Each candidate alone: three runs (and a skipped one) in the same copy.
    const dir = buildRepo();
    const summary = await runCycle(cycleRequest(dir, { recipeIds: RECIPES, groupTests: false }), engineDeps(null));
    expect(summary.status).toBe("completed");
    expect(summary.facts?.testsPassing).toBe("pass");
    const byRecipe = new Map(summary.results.map((r) => [r.candidate.recipe.id, r.outcome]));

    // Ran after the baseline in the same copy: only its own broken test fails, not the clean-copy test.
    expect(byRecipe.get("biome/use-optional-chain")).toMatchObject({
      success: false,
      tests: "fail",
      testsReason: "1 failed (vitest)",
      testsRun: "related",
    });
    // The full suite, clean-copy test included, after two runs in the same copy.
    expect(byRecipe.get("eslint/prefer-const")).toMatchObject({ success: true, tests: "pass", testsRun: "full" });
    const inferrable = byRecipe.get("eslint/no-inferrable-types");
    expect(inferrable).toMatchObject({ success: true, tests: "pass", testsReason: SAME_JS });
    expect(inferrable?.testsRun).toBeUndefined();
    expect(inferrable?.durationsMs.tests).toBe(0);
  }, 300_000);

  it("runs only the related tests for a test command given as a shell line, as for the package.json script", async () => {
    const dir = buildRepo();
    const summary = await runCycle(
      cycleRequest(dir, { recipeIds: ["biome/use-optional-chain"], testCommand: "npx vitest run" }),
      engineDeps(null),
    );
    expect(summary.facts?.testsPassing).toBe("pass");
    expect(summary.results[0]?.outcome).toMatchObject({ tests: "fail", testsRun: "related" });
  }, 300_000);

  it("runs the whole suite for every candidate of an Apply", async () => {
    const dir = buildRepo();
    const summary = await runCycle(
      cycleRequest(dir, { recipeIds: ["eslint/no-inferrable-types"], trigger: "apply" }),
      engineDeps(null),
    );
    expect(summary.status).toBe("completed");
    expect(summary.results[0]?.outcome).toMatchObject({ success: true, tests: "pass", testsRun: "full" });
    expect(summary.results[0]?.outcome?.testsReason).toBeUndefined();
  }, 300_000);
});

describe("the baseline", () => {
  it("is stopped when the cycle's time is up, not left to run out its own", async () => {
    const dir = buildRepo();
    const t0 = performance.now();
    const cycle = runCycle(
      cycleRequest(dir, { recipeIds: RECIPES, testCommand: "sleep 120", signal: AbortSignal.timeout(4_000) }),
      engineDeps(null),
    );
    await expect(cycle).rejects.toThrow(/aborted/);
    // The test run is killed at the abort; without that the cycle waits for its 120 s.
    expect(performance.now() - t0).toBeLessThan(60_000);
  }, 300_000);

  it("runs its tests while its type check is under way, not after it", async () => {
    const dir = join(tempDir(), "node-test");
    buildRunnerRepo(dir, "node-test");
    const deps = engineDeps(null);
    const events: string[] = [];
    const tools = deps.tools;
    const summary = await runCycle(cycleRequest(dir, { recipeIds: ["eslint/prefer-const"] }), {
      ...deps,
      tools: {
        ...tools,
        async startTypeChecker(root, tsconfigPath) {
          const checker = await tools.startTypeChecker(root, tsconfigPath);
          return {
            ...checker,
            baseline: async () => {
              const diagnostics = await checker.baseline();
              events.push("type check done");
              return diagnostics;
            },
          };
        },
        startTests(root, options) {
          events.push("tests started");
          return tools.startTests(root, options);
        },
      },
    });
    expect(summary.facts).toMatchObject({ testsPassing: "pass", baselineDiagnostics: 0 });
    expect(events.slice(0, 2)).toEqual(["tests started", "type check done"]);
  }, 300_000);

  it("plans the recipes while the baseline's tests run, once they have started", async () => {
    const dir = buildRepo();
    const deps = engineDeps(null);
    const events: string[] = [];
    const summary = await runCycle(cycleRequest(dir, { recipeIds: RECIPES }), {
      ...deps,
      onProgress: (e) => {
        if (e.phase === "candidates") events.push("planning");
      },
      tools: {
        ...deps.tools,
        startTests: observedTests(deps.tools, {
          baseline: (at) => events.push(`baseline tests ${at}`),
        }),
      },
    });
    expect(summary.status).toBe("completed");
    expect(events).toContain("baseline tests start");
    expect(events.indexOf("planning")).toBeGreaterThan(-1);
    expect(events.indexOf("planning")).toBeLessThan(events.indexOf("baseline tests done"));
    // Planning keeps this process busy: begun earlier, it would hold up the copy and the spawn of the tests.
    expect(events.indexOf("planning")).toBeGreaterThan(events.indexOf("baseline tests launched"));
  }, 300_000);

  it("lints the candidates while their tests run in groups", async () => {
    const dir = buildRepo();
    const deps = engineDeps(null);
    const events: string[] = [];
    const summary = await runCycle(cycleRequest(dir, { recipeIds: RECIPES }), {
      ...deps,
      tools: {
        ...deps.tools,
        family(recipe) {
          const family = deps.tools.family(recipe);
          return {
            ...family,
            findings: (ws, recipes, files) => {
              // A candidate's lint reads changed contents; the baseline's reads the files as they are.
              const changed = files.some((f) => ws.read(f) !== readFileSync(join(dir, f), "utf8"));
              if (changed) events.push("candidate lint");
              return family.findings(ws, recipes, files);
            },
          };
        },
        startTests: observedTests(deps.tools, {
          run: (edits) => events.push(`test run of ${edits.length} file${edits.length === 1 ? "" : "s"} done`),
        }),
      },
    });
    expect(summary.status).toBe("completed");
    // The two candidates whose tests run (prefer-const, and use-optional-chain, which may change behaviour and is
    // tested apart) had their runs started together; the candidates were linted while those runs went on: more
    // than one lint before the first run was done (one candidate after another would lint, then run its tests).
    const firstRun = events.findIndex((e) => e.startsWith("test run of"));
    expect(events[firstRun]).toBe("test run of 1 file done");
    expect(events.slice(0, firstRun).filter((e) => e === "candidate lint").length).toBeGreaterThanOrEqual(2);
    expect(summary.results.find((r) => r.candidate.recipe.id === "eslint/prefer-const")?.outcome).toMatchObject({
      success: true,
      tests: "pass",
    });
  }, 300_000);
});

describe("test groups and the type check", () => {
  /** The runner repository plus a non-null assertion whose optional-chain fix breaks the declared return type. */
  function typeBreakingRepo(name: string): string {
    const dir = join(tempDir(), name);
    buildRunnerRepo(dir, "vitest");
    appendFileSync(
      join(dir, "src/stats.ts"),
      "\nexport function firstFixed(xs: number[]): string {\n  return xs.find((x) => x > 0)!.toFixed(1);\n}\n",
    );
    commitAll(dir, "a non-null assertion");
    return dir;
  }

  /** The contents every test run was given, in a cycle whose test session says whether its tests type-check. */
  async function runContents(dir: string, checksTypes: boolean) {
    const deps = engineDeps(null);
    const contents: string[] = [];
    const tools: CycleTools = {
      ...deps.tools,
      startTests: observedTests(
        deps.tools,
        { run: (edits) => contents.push(...edits.map((e) => e.after)) },
        {
          checksTypes: () => checksTypes,
        },
      ),
    };
    const summary = await runCycle(
      cycleRequest(dir, {
        recipeIds: ["eslint/no-non-null-assertion", "eslint/prefer-const", "biome/use-optional-chain"],
      }),
      { ...deps, tools },
    );
    const broken = summary.results.find((r) => r.candidate.recipe.id === "eslint/no-non-null-assertion");
    expect(broken?.outcome).toMatchObject({ success: false, tests: "unknown" });
    expect(broken?.outcome?.newDiagnostics).toBeGreaterThan(0);
    return contents;
  }

  it("where the tests type-check, a fix that fails the type check never joins a test run", async () => {
    const contents = await runContents(typeBreakingRepo("checks-types"), true);
    expect(contents.length).toBeGreaterThan(0);
    expect(contents.filter((c) => c.includes("?.toFixed(1)"))).toEqual([]);
  }, 300_000);

  it("where they only run the code, groups start before the type checks are in, and the fix's run is not read", async () => {
    const contents = await runContents(typeBreakingRepo("runs-code"), false);
    expect(contents.filter((c) => c.includes("?.toFixed(1)")).length).toBeGreaterThan(0);
  }, 300_000);
});
