import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDemoRepo, commitAll, DEMO_FILES, linkTypeScript } from "../../src/cli/demo-repo.js";
import { countRows } from "../../src/db/queries/cycles.js";
import { setConsent, upsertRepository } from "../../src/db/queries/repositories.js";
import { createTestDb, TEST_DB_KINDS, type TestDb } from "../helpers/db.js";
import { cycleRequest, engineDeps, runCycle, tempDir, wrapTestSessions } from "../helpers/engine.js";

/** Five recipes from all three families whose results on the demo are known: two succeed, three fail. */
const DEMO_RECIPES = [
  "ts/remove-unused-imports",
  "eslint/prefer-const",
  "eslint/dot-notation",
  "biome/use-const",
  "biome/use-optional-chain",
];

describe.each(TEST_DB_KINDS)("a cycle on the demo repository (%s)", (kind) => {
  let db: TestDb;
  let dir: string;
  beforeAll(async () => {
    db = await createTestDb(kind);
    dir = join(tempDir(), "demo");
    buildDemoRepo(dir);
    const repo = await upsertRepository(db.db, { owner: "test", name: "repo", mode: "shadow" });
    await setConsent(db.db, repo.id, "dataCollection", true, { source: "operator", actor: "test" });
  });
  afterAll(async () => {
    await db.cleanup();
  });

  it("verifies every candidate for real and stores predictions beside outcomes; a re-run duplicates nothing", async () => {
    const deps = engineDeps(db.db);
    const first = await runCycle(cycleRequest(dir, { recipeIds: DEMO_RECIPES }), deps);
    expect(first.status).toBe("completed");
    const byRecipe = new Map(first.results.map((r) => [r.candidate.recipe.id, r]));
    expect([...byRecipe.keys()].sort()).toEqual([...DEMO_RECIPES].sort());
    expect(new Set(first.results.map((r) => r.candidate.recipe.family))).toEqual(
      new Set(["ts-codefix", "eslint", "biome"]),
    );

    // A clean fix: succeeds, tests pass.
    expect(byRecipe.get("eslint/prefer-const")?.outcome).toMatchObject({
      success: true,
      tests: "pass",
      newDiagnostics: 0,
    });
    expect(byRecipe.get("ts/remove-unused-imports")?.outcome).toMatchObject({ success: true, tests: "pass" });
    // useConst and prefer-const make the identical patch: verified once, shared.
    expect(byRecipe.get("biome/use-const")?.candidate.patchHash).toBe(
      byRecipe.get("eslint/prefer-const")?.candidate.patchHash,
    );
    expect(byRecipe.get("biome/use-const")?.outcome?.sharedWith).toBe("eslint/prefer-const@all");
    // dot-notation under noPropertyAccessFromIndexSignature: breaks the type check (TS4111).
    const dot = byRecipe.get("eslint/dot-notation")?.outcome;
    expect(dot).toMatchObject({ success: false, newDiagnostics: 2 });
    expect(dot?.failureCause).toContain("TS4111");
    // The optional chain changes what a falsy counter returns: the type check passes, the tests fail.
    expect(byRecipe.get("biome/use-optional-chain")?.outcome).toMatchObject({
      success: false,
      newDiagnostics: 0,
      tests: "fail",
    });

    for (const r of first.results) {
      expect(r.prediction.usedML).toBe(false);
      expect(r.prediction.heuristicTrust).toBeGreaterThan(0);
      expect(r.prediction.features.length).toBeGreaterThan(10);
    }
    expect(first.stored).toBe(true);
    const afterFirst = await countRows(db.db);
    expect(afterFirst).toMatchObject({ cycles: 1, predictions: 5, outcomes: 5, repositories: 1 });

    const second = await runCycle(cycleRequest(dir, { recipeIds: DEMO_RECIPES, runTests: false }), deps);
    expect(second.id).not.toBe(first.id);
    expect(await countRows(db.db)).toMatchObject({ cycles: 2, predictions: 10, outcomes: 10, repositories: 1 });
  }, 600_000);

  it("a retried run (same run key) replaces its own results instead of adding to them", async () => {
    const deps = engineDeps(db.db);
    const before = await countRows(db.db);
    const req = cycleRequest(dir, { recipeIds: ["eslint/prefer-const"], runTests: false, runKey: `retry-${kind}` });
    const a = await runCycle(req, deps);
    const b = await runCycle(req, deps);
    expect(b.id).toBe(a.id);
    const after = await countRows(db.db);
    expect(after.cycles - before.cycles).toBe(1);
    expect(after.predictions - before.predictions).toBe(1);
  }, 300_000);

  it("without data-collection consent only the cycle is stored", async () => {
    const deps = engineDeps(db.db);
    const before = await countRows(db.db);
    const summary = await runCycle(
      cycleRequest(dir, {
        recipeIds: ["eslint/prefer-const"],
        runTests: false,
        repository: { owner: "test", name: "no-consent", mode: "shadow" },
      }),
      deps,
    );
    expect(summary.status).toBe("completed");
    expect(summary.results.length).toBe(1);
    expect(summary.stored).toBe(false);
    const after = await countRows(db.db);
    expect(after.cycles - before.cycles).toBe(1);
    expect(after.predictions).toBe(before.predictions);
    expect(after.outcomes).toBe(before.outcomes);
  }, 300_000);
});

/** The demo repository with more files, committed, with our TypeScript linked in. */
function demoWith(name: string, extra: Record<string, string>): string {
  const dir = join(tempDir(), name);
  for (const [path, content] of Object.entries({ ...DEMO_FILES, ...extra })) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  linkTypeScript(dir);
  commitAll(dir, name);
  return dir;
}

describe("tests that failed at baseline", () => {
  it("give unknown, never pass", async () => {
    const dir = demoWith("failing", {
      "test/broken.test.ts":
        'import { test } from "node:test";\nimport assert from "node:assert/strict";\ntest("broken", () => assert.equal(1, 2));\n',
    });
    const summary = await runCycle(cycleRequest(dir, { recipeIds: ["eslint/prefer-const"] }), engineDeps(null));
    expect(summary.facts?.testsPassing).toBe("fail");
    const outcome = summary.results[0]?.outcome;
    expect(outcome?.tests).toBe("unknown");
    expect(outcome?.testsReason).toMatch(/did not pass before/);
    expect(outcome?.success).toBe(true);
  });
});

/**
 * Deps on two lanes whose test sessions note when the baseline's tests ended and when each candidate's run
 * started (milliseconds on performance.now()).
 */
function timedTwoLaneDeps(): {
  deps: ReturnType<typeof engineDeps>;
  baselineEnd: () => number;
  runStarts: number[];
  /** Runs Verify asked for itself (without the abort signal every early run carries). */
  verifyRuns: () => number;
  /** When each run ended, once all have. */
  runEnds: () => Promise<number[]>;
} {
  const deps = engineDeps(null, undefined, { parallelRuns: 2 });
  let baselineEnd = Number.NaN;
  const runStarts: number[] = [];
  const runs: Promise<number>[] = [];
  let verifyRuns = 0;
  wrapTestSessions(deps, (session) => ({
    ...session,
    baseline: async (o) => {
      try {
        return await session.baseline(o);
      } finally {
        baselineEnd = performance.now();
      }
    },
    run: (edits, o) => {
      runStarts.push(performance.now());
      if (!o?.signal) verifyRuns++;
      const r = session.run(edits, o);
      runs.push(r.then(() => performance.now()));
      return r;
    },
  }));
  return {
    deps,
    baselineEnd: () => baselineEnd,
    runStarts,
    verifyRuns: () => verifyRuns,
    runEnds: () => Promise.all(runs),
  };
}

describe("tests that failed at baseline, with runs started early", () => {
  it("give unknown, never pass: what ran while the baseline's tests ran counts for nothing", async () => {
    // The baseline fails after 4 s; with prefer-const's change (src/math.ts's `let count` made const), the suite
    // waits 60 s: a run of the candidate not stopped with the cycle would outlive it by far.
    const dir = demoWith("failing-slowly", {
      "test/broken.test.ts": [
        'import { readFileSync } from "node:fs";',
        'import { test } from "node:test";',
        'import assert from "node:assert/strict";',
        'const changed = readFileSync("src/math.ts", "utf8").includes("const count");',
        'test("broken", async () => {',
        "  await new Promise((resolve) => setTimeout(resolve, changed ? 60_000 : 4000));",
        "  assert.equal(1, 2);",
        "});",
        "",
      ].join("\n"),
    });
    const timed = timedTwoLaneDeps();
    const summary = await runCycle(cycleRequest(dir, { recipeIds: ["eslint/prefer-const"] }), timed.deps);
    const cycleEnd = performance.now();
    expect(summary.facts?.testsPassing).toBe("fail");
    // The candidate's tests did start before the baseline's had failed, and were stopped with the cycle: no run
    // outlives it (using the machine for nothing).
    expect(timed.runStarts.some((t) => t < timed.baselineEnd())).toBe(true);
    for (const end of await timed.runEnds()) expect(end).toBeLessThanOrEqual(cycleEnd);
    const outcome = summary.results[0]?.outcome;
    expect(outcome?.tests).toBe("unknown");
    expect(outcome?.testsReason).toMatch(/did not pass before/);
  }, 300_000);
});

describe("work done while the baseline's tests run", () => {
  it("lints and type-checks the planned candidates before Verify starts; the verdicts are the same", async () => {
    // Tests that take a few seconds: Act is done long before the baseline's tests are.
    const dir = demoWith("slow-baseline", {
      "test/slow.test.ts":
        'import { test } from "node:test";\ntest("slow", () => new Promise<void>((resolve) => setTimeout(resolve, 4000)));\n',
    });
    const summary = await runCycle(cycleRequest(dir, { recipeIds: DEMO_RECIPES }), engineDeps(null));
    expect(summary.status).toBe("completed");
    // Five candidates, four patches (biome/use-const writes prefer-const's): each linted once, ahead of Verify.
    expect(summary.ahead).toMatchObject({ linted: 4 });
    expect(summary.ahead?.typeChecked).toBeGreaterThanOrEqual(1);
    const byRecipe = new Map(summary.results.map((r) => [r.candidate.recipe.id, r.outcome]));
    expect(byRecipe.get("eslint/prefer-const")).toMatchObject({ success: true, tests: "pass" });
    expect(byRecipe.get("eslint/dot-notation")).toMatchObject({ success: false, newDiagnostics: 2 });
    expect(byRecipe.get("biome/use-optional-chain")).toMatchObject({ success: false, tests: "fail" });
    for (const r of summary.results) expect(r.outcome?.durationsMs?.lint).toBeGreaterThan(0);
  }, 300_000);

  it("with two lanes, the candidates' tests start while the baseline's still run; the verdicts are the same", async () => {
    const dir = demoWith("slow-baseline-lanes", {
      "test/slow.test.ts":
        'import { test } from "node:test";\ntest("slow", () => new Promise<void>((resolve) => setTimeout(resolve, 4000)));\n',
    });
    const timed = timedTwoLaneDeps();
    const summary = await runCycle(cycleRequest(dir, { recipeIds: DEMO_RECIPES }), timed.deps);
    expect(summary.status).toBe("completed");
    expect(summary.facts?.testsPassing).toBe("pass");
    expect(timed.runStarts.some((t) => t < timed.baselineEnd())).toBe(true);
    const byRecipe = new Map(summary.results.map((r) => [r.candidate.recipe.id, r.outcome]));
    expect(byRecipe.get("eslint/prefer-const")).toMatchObject({ success: true, tests: "pass" });
    expect(byRecipe.get("eslint/dot-notation")).toMatchObject({ success: false, newDiagnostics: 2 });
    expect(byRecipe.get("biome/use-optional-chain")).toMatchObject({ success: false, tests: "fail" });
    // Each candidate's tests ran in the early groups: Verify ran none again.
    expect(timed.runStarts.length).toBeGreaterThan(0);
    expect(timed.verifyRuns()).toBe(0);
  }, 300_000);
});

/** A committed repository with one source file, src/a.ts, and the given tsconfig and other files. */
function oneFileRepo(name: string, tsconfig: string, files: Record<string, string> = {}): string {
  const dir = join(tempDir(), name);
  mkdirSync(join(dir, "src"), { recursive: true });
  writeFileSync(join(dir, "tsconfig.json"), tsconfig);
  writeFileSync(join(dir, "src/a.ts"), "let a = 1;\nexport { a };\n");
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), content);
  }
  commitAll(dir, name);
  return dir;
}

/** Runs a cycle that must fail, with a database: its error, and the rows it left (the failed cycle only). */
async function failedCycle(dir: string): Promise<{ error: string | null; results: number; rows: object }> {
  const db = await createTestDb("pglite");
  try {
    const summary = await runCycle(cycleRequest(dir, { runTests: false }), engineDeps(db.db));
    expect(summary.status).toBe("failed");
    return { error: summary.error, results: summary.results.length, rows: await countRows(db.db) };
  } finally {
    await db.cleanup();
  }
}

describe("bad input", () => {
  it("a broken tsconfig fails the cycle with a message naming it, and stores the failure", async () => {
    const dir = oneFileRepo("broken", '{ "compilerOptions": { "target": "ES2022", } "include": ["src"] }');
    const failed = await failedCycle(dir);
    expect(failed.error).toMatch(/tsconfig\.json/);
    expect(failed.rows).toMatchObject({ cycles: 1, predictions: 0 });
  });

  it("a tsconfig that extends a missing file is reported", async () => {
    const dir = oneFileRepo("extends", '{ "extends": "./missing.json", "include": ["src"] }');
    const summary = await runCycle(cycleRequest(dir, { runTests: false }), engineDeps(null));
    expect(summary.status).toBe("failed");
    expect(summary.error).toMatch(/missing\.json/);
  });

  it("a repository whose own TypeScript is older than 4.5 is checked with ours, never loading its own, and says so", async () => {
    const dir = oneFileRepo("old-ts", '{ "include": ["src"] }', {
      ".gitignore": "node_modules/\n",
      "node_modules/typescript/package.json": '{ "name": "typescript", "version": "3.9.7", "main": "index.js" }',
      "node_modules/typescript/index.js": 'throw new Error("loaded");\n',
    });
    const summary = await runCycle(cycleRequest(dir, { runTests: false }), engineDeps(null));
    expect(summary.error).toBeNull();
    expect(summary.status).toBe("completed");
    expect(summary.facts?.typescriptVersion).toBe("3.9.7");
    expect(summary.facts?.typeCheck).toMatchObject({ source: "product", repositoryVersion: "3.9.7" });
    expect(summary.facts?.typeCheck?.reason).toMatch(/older than 4\.5/);
  });

  it("a repository without TypeScript sources says so", async () => {
    const dir = join(tempDir(), "nots");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "README.md"), "hello\n");
    commitAll(dir, "no ts");
    const summary = await runCycle(cycleRequest(dir, { runTests: false }), engineDeps(null));
    expect(summary.status).toBe("failed");
    expect(summary.error).toMatch(/no TypeScript source files/);
  });

  it("syntax errors, binary and huge files, and symlinks out of the repository are skipped and reported", async () => {
    const dir = join(tempDir(), "messy");
    mkdirSync(join(dir, "src"), { recursive: true });
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { strict: true, noEmit: true }, include: ["src"] }),
    );
    writeFileSync(join(dir, "src/ok.ts"), "let a = 1;\nexport { a };\n");
    writeFileSync(join(dir, "src/broken.ts"), "export const = ;\nlet b = 2;\n");
    writeFileSync(join(dir, "src/blob.ts"), Buffer.from([0x00, 0x01, 0x02, 0xff, 0x00]));
    writeFileSync(join(dir, "src/huge.ts"), `export const x = "${"x".repeat(2 * 1024 * 1024)}";\n`);
    symlinkSync("/etc/passwd", join(dir, "src/escape.ts"));
    commitAll(dir, "messy");
    const summary = await runCycle(
      cycleRequest(dir, { runTests: false, recipeIds: ["eslint/prefer-const", "biome/use-const"] }),
      engineDeps(null),
    );
    expect(summary.status).toBe("completed");
    const skipped = summary.skipped.map((s) => `${s.file}: ${s.reason}`).join("\n");
    expect(skipped).toMatch(/src\/blob\.ts: binary/);
    expect(skipped).toMatch(/src\/huge\.ts: file too large/);
    expect(skipped).toMatch(/src\/escape\.ts: symlink that leaves the repository/);
    expect(skipped).toMatch(/src\/broken\.ts/);
    // The fix still applies to the file that parses.
    expect(summary.results.some((r) => r.candidate.files.some((f) => f.path === "src/ok.ts"))).toBe(true);
    expect(summary.results.every((r) => r.candidate.files.every((f) => f.path === "src/ok.ts"))).toBe(true);
  });
});
