/**
 * How a fix's lint verdict is reached: by every recipe the repository enables (not the cycle's selection), with
 * findings matched through the patch's line mapping, and with follow-up findings verified as a bundled candidate.
 * Real ESLint, Biome and TypeScript runs on generated repositories.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_OVERLAP_BUNDLES, overlappingPairs, planBundles } from "../../src/engine/bundles.js";
import { makeCandidate } from "../../src/engine/candidates.js";
import { countChanges } from "../../src/engine/diff.js";
import type { CycleDeps } from "../../src/engine/ports.js";
import { DEFAULT_REPO_CONFIG } from "../../src/engine/repo-config.js";
import type { CycleSummary, Outcome } from "../../src/engine/types.js";
import { newFindings } from "../../src/engine/verify.js";
import { findRecipe } from "../../src/recipes/index.js";
import type { Finding, Recipe } from "../../src/recipes/types.js";
import {
  cycleRequest,
  engineDeps,
  removeTempDirs,
  runCycle,
  smallProject,
  tempDir,
  writeRepo,
} from "../helpers/engine.js";

const finding = (line: number, rule = "prefer-const"): Finding => ({
  file: "src/a.ts",
  line,
  column: 1,
  rule,
  message: "m",
});

describe("new findings through the patch's line mapping", () => {
  // Line 2 is rewritten into two lines; line 4 is deleted; everything after moves up by... nothing net.
  const patch = { path: "src/a.ts", before: "a\nb\nc\nd\ne\n", after: "a\nB1\nB2\nc\ne\n" };
  it("a finding that was there before, moved by the patch, is not new", () => {
    expect(newFindings([finding(3), finding(5)], [finding(4), finding(5)], [patch])).toEqual([]);
  });
  it("a finding on a rewritten line may be anywhere in the rewrite, once", () => {
    expect(newFindings([finding(2)], [finding(3)], [patch])).toEqual([]);
    expect(newFindings([finding(2)], [finding(2), finding(3)], [patch])).toEqual([finding(3)]);
  });
  it("one removed elsewhere does not pay for one added on a changed line (counts per rule would say 0 new)", () => {
    expect(newFindings([finding(1)], [finding(2)], [patch])).toEqual([finding(2)]);
  });
  it("a finding of another rule at the same line is new", () => {
    expect(newFindings([finding(2)], [finding(2, "no-var")], [patch])).toEqual([finding(2, "no-var")]);
  });
  it("a deleted line's finding matches nothing after", () => {
    expect(newFindings([finding(4)], [finding(4)], [patch])).toEqual([finding(4)]);
  });
});

/**
 * `var a` is never reassigned: no-var's `let a` is prefer-const's (and useConst's) next finding. `let b` is a
 * prefer-const finding before any change, on a line no-var does not touch. `var c` is reassigned: `let c` is final.
 */
const SOURCE = "var a = 1;\nlet b = 2;\nvar c = 3;\nc += 1;\nexport { a, b, c };\n";

function repo(name: string): string {
  const dir = join(tempDir(), name);
  writeRepo(dir, smallProject("node -e 0", { "src/a.ts": SOURCE }));
  return dir;
}

/** Engine collaborators that count type checks of candidates: one per verified candidate. */
function countingDeps(): { deps: CycleDeps; checks: () => number } {
  const deps = engineDeps(null);
  let checks = 0;
  const tools = deps.tools;
  return {
    checks: () => checks,
    deps: {
      ...deps,
      tools: {
        ...tools,
        family: (r) => tools.family(r),
        listFiles: (root) => tools.listFiles(root),
        startTests: (root, command) => tools.startTests(root, command),
        async startTypeChecker(root, tsconfig) {
          const session = await tools.startTypeChecker(root, tsconfig);
          return {
            typescriptVersion: session.typescriptVersion,
            baseline: () => session.baseline(),
            close: () => session.close(),
            check(overrides) {
              checks++;
              return session.check(overrides);
            },
          };
        },
      },
    },
  };
}

function result(summary: CycleSummary, key: string) {
  const r = summary.results.find((x) => x.candidate.key === key);
  if (!r) throw new Error(`no candidate ${key} in ${summary.results.map((x) => x.candidate.key).join(", ")}`);
  return r;
}

describe("lint verdicts on a real repository", () => {
  let dir: string;
  beforeAll(() => {
    dir = repo("judging");
  });
  afterAll(() => removeTempDirs());

  it("no-var passes under the full rule set; its prefer-const follow-up is a bundled candidate, verified once", async () => {
    const { deps, checks } = countingDeps();
    const summary = await runCycle(cycleRequest(dir, { recipeIds: ["eslint/no-var"], runTests: false }), deps);
    expect(summary.status).toBe("completed");
    const single = result(summary, "eslint/no-var@all").outcome;
    expect(single).toMatchObject({
      success: true,
      newLintFindings: 0,
      followUp: {
        recipes: ["biome/use-const", "eslint/prefer-const"],
        findings: 2,
        bundle: "eslint/no-var+eslint/prefer-const@all",
      },
    });
    expect(single?.note).toBe(
      "new findings are the follow-up biome/use-const, eslint/prefer-const; see the bundled candidate eslint/no-var+eslint/prefer-const@all",
    );
    const bundle = result(summary, "eslint/no-var+eslint/prefer-const@all");
    expect(bundle.candidate.parts?.map((r) => r.id)).toEqual(["eslint/no-var", "eslint/prefer-const"]);
    // prefer-const only where no-var wrote: the let b that was there before is left alone.
    expect(bundle.candidate.files[0]?.after).toBe(
      "const a = 1;\nlet b = 2;\nlet c = 3;\nc += 1;\nexport { a, b, c };\n",
    );
    expect(bundle.outcome).toMatchObject({ success: true, newLintFindings: 0, newDiagnostics: 0 });
    expect(bundle.outcome?.targetAfter).toBeLessThan(bundle.outcome?.targetBefore ?? 0);
    expect(bundle.prediction.features.length).toBeGreaterThan(10);
    expect(summary.results).toHaveLength(2);
    expect(checks()).toBe(2);
  }, 300_000);

  it("the selection does not change the verdict: --recipes eslint/no-var and the whole catalog agree", async () => {
    const alone = await runCycle(
      cycleRequest(dir, { recipeIds: ["eslint/no-var"], runTests: false }),
      engineDeps(null),
    );
    const all = await runCycle(cycleRequest(dir, { runTests: false }), engineDeps(null));
    const pick = (s: CycleSummary) => {
      const o = result(s, "eslint/no-var@all").outcome;
      return { success: o?.success, newLintFindings: o?.newLintFindings, followUp: o?.followUp, note: o?.note };
    };
    expect(pick(all)).toEqual(pick(alone));
    expect(pick(all).success).toBe(true);
    // prefer-const planned on its own fixes only let b; it shares no line with no-var, so no second bundle.
    expect(all.results.filter((r) => r.candidate.parts).map((r) => r.candidate.key)).toEqual([
      "eslint/no-var+eslint/prefer-const@all",
    ]);
  }, 600_000);

  it("a new finding on a changed line is blamed on the fix, and the one that was there before on another line is not", async () => {
    // Without its follow-up relation, no-var's let is an ordinary new finding.
    const noVar = { ...(findRecipe("eslint/no-var") as Recipe), followUps: [] };
    const summary = await runCycle(cycleRequest(dir, { recipes: [noVar], runTests: false }), engineDeps(null));
    const outcome = result(summary, "eslint/no-var@all").outcome;
    expect(outcome).toMatchObject({ success: false, newLintFindings: 2 });
    expect(outcome?.followUp).toBeUndefined();
    // Line 1 (var a), never line 2 (let b, a prefer-const finding before the fix).
    expect(outcome?.failureCause).toMatch(/^2 new lint findings: src\/a\.ts:1 /);
    expect(summary.results.some((r) => r.candidate.parts)).toBe(false);
  }, 300_000);

  it("judged only by its own selection (no judgeRecipes), the same fix would see no prefer-const at all", async () => {
    // The behaviour judgeRecipes exists to prevent: callers that leave it out get selection-dependent verdicts.
    const summary = await runCycle(
      cycleRequest(dir, { recipeIds: ["eslint/no-var"], judgeRecipes: undefined, runTests: false }),
      engineDeps(null),
    );
    expect(result(summary, "eslint/no-var@all").outcome).toMatchObject({ success: true, newLintFindings: 0 });
    expect(result(summary, "eslint/no-var@all").outcome?.followUp).toBeUndefined();
  }, 300_000);
});

describe("bundles of two fixes on the same lines", () => {
  it("are offered and verified once as one candidate", async () => {
    const dir = join(tempDir(), "overlap");
    // object-shorthand and prefer-template both rewrite line 2.
    writeRepo(
      dir,
      smallProject("node -e 0", {
        "src/a.ts": 'export const name = "x";\nexport const o = { name: name, label: "n: " + name };\n',
      }),
    );
    const { deps, checks } = countingDeps();
    const summary = await runCycle(
      cycleRequest(dir, { recipeIds: ["eslint/object-shorthand", "eslint/prefer-template"], runTests: false }),
      deps,
    );
    const bundle = result(summary, "eslint/object-shorthand+eslint/prefer-template@all");
    expect(bundle.candidate.files[0]?.after).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the expected source holds a template literal
      'export const name = "x";\nexport const o = { name, label: `n: ${  name}` };\n',
    );
    expect(bundle.outcome).toMatchObject({ success: true, newLintFindings: 0 });
    expect(summary.results).toHaveLength(3);
    expect(checks()).toBe(3);
  }, 300_000);
});

describe("overlapping pairs", () => {
  const recipe = (id: string): Recipe => ({
    id,
    family: "eslint",
    title: id,
    category: "style",
    safety: "safe",
    params: {},
  });
  const edit = (before: string, after: string) => [{ path: "src/a.ts", before, after, ...countChanges(before, after) }];
  const base = "l1\nl2\nl3\nl4\n";
  it("pairs fixes that change a same line, never fixes on different lines or identical patches", () => {
    const a = makeCandidate(recipe("x/a"), "all", edit(base, "L1\nl2\nl3\nl4\n"), 1);
    const b = makeCandidate(recipe("x/b"), "all", edit(base, "L1!\nl2\nl3\nl4\n"), 1);
    const c = makeCandidate(recipe("x/c"), "all", edit(base, "l1\nl2\nl3\nL4\n"), 1);
    const same = makeCandidate(recipe("x/d"), "all", edit(base, "L1\nl2\nl3\nl4\n"), 1);
    expect(overlappingPairs([a, b, c, same]).map(([p, q]) => `${p.recipe.id}+${q.recipe.id}`)).toEqual([
      "x/a+x/b",
      "x/b+x/d",
    ]);
  });
  it("are bundled only when both fixes passed on their own", async () => {
    const a = makeCandidate(recipe("x/a"), "all", edit(base, "L1\nl2\nl3\nl4\n"), 1);
    const b = makeCandidate(recipe("x/b"), "all", edit(base, "l1!\nl2\nl3\nl4\n"), 1);
    const ctx = {
      // x/b's fix over whatever line 1 holds: a "!" at its end.
      plan: async (_r: Recipe, overrides: ReadonlyMap<string, string>) => {
        const before = overrides.get("src/a.ts") as string;
        return [{ path: "src/a.ts", before, after: before.replace(/^([^\n]*)/, "$1!") }];
      },
      budget: DEFAULT_REPO_CONFIG.budget,
      targets: () => 1,
    };
    const passed = { success: true } as Outcome;
    const both = await planBundles([a, b], [passed, passed], [], ctx);
    expect(both.bundles.map((c) => [c.key, c.files[0]?.after])).toEqual([["x/a+x/b@all", "L1!\nl2\nl3\nl4\n"]]);
    for (const outcomes of [
      [passed, { success: false } as Outcome],
      [{ success: false } as Outcome, passed],
      [passed, null],
    ]) {
      expect((await planBundles([a, b], outcomes, [], ctx)).bundles).toEqual([]);
    }
  });
  it(`offers at most ${MAX_OVERLAP_BUNDLES} a cycle`, () => {
    const many = Array.from({ length: 8 }, (_, i) =>
      makeCandidate(recipe(`x/${i}`), "all", edit(base, `L1-${i}\nl2\nl3\nl4\n`), 1),
    );
    expect(overlappingPairs(many)).toHaveLength(MAX_OVERLAP_BUNDLES);
  });
});
