/** The check run's contents (limits, buttons, annotation lines) and how it is sent (50 annotations per request). */
import { describe, expect, it } from "vitest";
import { patchHash } from "../../src/engine/candidates.js";
import type { CandidateResult, CycleSummary } from "../../src/engine/types.js";
import { recipeForAction } from "../../src/github/actions.js";
import {
  annotationsFor,
  buildCheckRunContent,
  MAX_ANNOTATIONS,
  publishCheckRun,
  putCompletedCheckRun,
} from "../../src/github/check-run.js";
import { RECIPES } from "../../src/recipes/index.js";
import { GITHUB_TEXT_LIMIT } from "../../src/summary/render.js";
import { ONE_FINDING_FIXED } from "../helpers/samples.js";
import { GitHubMock, useStrictNock } from "./helpers/github-mock.js";
import { tokenGitHubApi } from "./helpers/probot.js";

const recipe = (id: string) => {
  const r = RECIPES.find((x) => x.id === id);
  if (!r) throw new Error(id);
  return r;
};

/** A result whose file has `changes` separate one-line edits (one annotation each). */
function result(
  id: string,
  p: { trust: number; success: boolean; changes?: number; path?: string; samePatchAs?: string },
): CandidateResult {
  const lines = Array.from({ length: Math.max(1, p.changes ?? 1) * 3 }, (_, i) => `const v${i} = ${i};`);
  const after = lines.map((l, i) => (i % 3 === 1 ? l.replace("const", "let") : l));
  const before = lines.join("\n");
  const files = [{ path: p.path ?? "src/a.ts", before, after: after.join("\n"), linesAdded: 1, linesRemoved: 1 }];
  return {
    candidate: {
      key: `${id}@all`,
      recipe: recipe(id),
      scope: "all",
      files,
      linesAdded: 1,
      linesRemoved: 1,
      targetFindings: 1,
      // Each recipe's own patch, unless the test says two recipes made the same one.
      patchHash: `${p.samePatchAs ?? id} ${patchHash(files)}`,
    },
    prediction: {
      featureSchemaVersion: 2,
      features: [],
      mlTrust: null,
      heuristicTrust: p.trust,
      trust: p.trust,
      tier: p.trust >= 0.85 ? "auto-apply" : p.trust >= 0.65 ? "review-suggested" : "manual-only",
      usedML: false,
      fallbackCause: null,
      modelVersion: null,
      latencyMs: 1,
      confidence: 0.5,
      reason: "heuristic",
    },
    outcome: {
      success: p.success,
      status: "verified",
      ...ONE_FINDING_FIXED,
      newDiagnostics: p.success ? 0 : 1,
      tests: "pass",
      verificationScore: 1,
      durationsMs: { apply: 0, typecheck: 0, lint: 0, tests: 0, total: 0 },
    },
  };
}

function cycle(results: CandidateResult[], skipped: CycleSummary["skipped"] = []): CycleSummary {
  return {
    id: "c",
    repository: "acme/demo",
    sha: "a".repeat(40),
    trigger: "push",
    status: "completed",
    startedAt: "2026-01-01T00:00:00Z",
    durationsMs: {},
    facts: null,
    results,
    skipped,
    stored: false,
    error: null,
  };
}

describe("check run contents", () => {
  it("offers at most three Apply buttons, for verified fixes only, most trusted first, within GitHub's limits", () => {
    const content = buildCheckRunContent(
      cycle([
        result("ts/remove-unused-imports", { trust: 0.7, success: true }),
        result("ts/organize-imports", { trust: 0.95, success: true }),
        result("eslint/prefer-const", { trust: 0.99, success: false }),
        result("biome/use-const", { trust: 0.8, success: true }),
        result("ts/add-override", { trust: 0.9, success: true }),
      ]),
      { offerApply: true },
    );
    expect(content.actions.map((a) => [a.label, recipeForAction(a.identifier)?.id])).toEqual([
      ["Apply #2", "ts/organize-imports"],
      ["Apply #5", "ts/add-override"],
      ["Apply #4", "biome/use-const"],
    ]);
    for (const a of content.actions) {
      expect(a.identifier.length).toBeLessThanOrEqual(20);
      expect(a.label.length).toBeLessThanOrEqual(20);
      expect(a.description.length).toBeLessThanOrEqual(40);
    }
    expect(content.conclusion).toBe("neutral");
    expect(buildCheckRunContent(cycle([]), { offerApply: true })).toMatchObject({ conclusion: "success", actions: [] });
    expect(
      buildCheckRunContent(cycle([result("biome/use-const", { trust: 0.9, success: true })]), { offerApply: false })
        .actions,
    ).toEqual([]);
  });

  it("shows byte-identical patches as one row and one button that name the recipes that agree, counted once", () => {
    const content = buildCheckRunContent(
      cycle([
        result("eslint/prefer-arrow-callback", { trust: 0.9, success: true }),
        result("ts/remove-unused-imports", { trust: 0.8, success: true, path: "src/b.ts" }),
        result("biome/use-arrow-function", { trust: 0.95, success: true, samePatchAs: "eslint/prefer-arrow-callback" }),
      ]),
      { offerApply: true },
    );
    expect(content.output.title).toBe("ODAVL found 2 fixes, 2 verified");
    // The most trusted of the two stands for both, at the first one's row.
    expect(content.actions.map((a) => [a.label, recipeForAction(a.identifier)?.id])).toEqual([
      ["Apply #1", "biome/use-arrow-function"],
      ["Apply #2", "ts/remove-unused-imports"],
    ]);
    const rows = content.output.summary.split("\n").filter((l) => /^\| \d/.test(l));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain("`biome/use-arrow-function` (safe), also proposed by `eslint/prefer-arrow-callback`");
    expect(content.output.text).toContain(
      "**Also proposed by:** `eslint/prefer-arrow-callback` (the identical patch).",
    );
    expect(new Set(content.annotations.map((a) => a.title))).toEqual(
      new Set(["#1 biome/use-arrow-function", "#2 ts/remove-unused-imports"]),
    );
  });

  it("caps the summary and the details at 65,535 characters, with a note", () => {
    const many = Array.from({ length: 400 }, (_, i) =>
      result("biome/use-const", { trust: 0.9, success: true, changes: 30, path: `src/f${i}.ts` }),
    );
    const skipped = Array.from({ length: 5000 }, (_, i) => ({
      file: `vendor/${"x".repeat(40)}${i}.ts`,
      reason: "too large",
    }));
    const content = buildCheckRunContent(cycle(many, skipped), { offerApply: true });
    expect(content.output.summary.length).toBeLessThanOrEqual(GITHUB_TEXT_LIMIT);
    expect(content.output.text.length).toBeLessThanOrEqual(GITHUB_TEXT_LIMIT);
    expect(content.output.summary).toContain("Apply");
    expect(content.output.text).toMatch(/cut to fit GitHub's limit/);
    expect(content.annotations).toHaveLength(MAX_ANNOTATIONS);
  });

  it("keeps the 50 annotations that matter most, verified and most trusted first, and says how many there were", () => {
    const weak = Array.from({ length: 60 }, (_, i) =>
      result("biome/use-const", { trust: 0.5, success: false, changes: 1, path: `src/weak${i}.ts` }),
    );
    const strong = Array.from({ length: 10 }, (_, i) =>
      result("biome/use-const", { trust: 0.95, success: true, changes: 1, path: `src/strong${i}.ts` }),
    );
    const content = buildCheckRunContent(cycle([...weak, ...strong]), { offerApply: true });
    expect(MAX_ANNOTATIONS).toBe(50);
    expect(content.annotations).toHaveLength(50);
    expect(content.annotations.slice(0, 10).every((a) => a.path.startsWith("src/strong"))).toBe(true);
    expect(content.output.summary).toContain("Annotations: the 50 changed regions that matter most");
    expect(content.output.summary).toContain("of 70.");
  });

  it("annotates the lines of the commit that each fix changes", () => {
    const before = "import { a } from './a.js';\nimport { b } from './b.js';\nexport const x = a;\n";
    const removal = result("ts/remove-unused-imports", { trust: 0.9, success: true });
    removal.candidate.files = [
      {
        path: "src/x.ts",
        before,
        after: before.replace("import { b } from './b.js';\n", ""),
        linesAdded: 0,
        linesRemoved: 1,
      },
    ];
    const insertion = result("ts/add-override", { trust: 0.9, success: true });
    insertion.candidate.files = [
      { path: "src/y.ts", before: "a\nb\n", after: "a\nnew\nb\n", linesAdded: 1, linesRemoved: 0 },
    ];
    expect(annotationsFor([removal, insertion]).map((a) => [a.path, a.start_line, a.end_line, a.raw_details])).toEqual([
      ["src/x.ts", 2, 2, "-import { b } from './b.js';"],
      ["src/y.ts", 1, 1, "+new"],
    ]);
  });
});

describe("check run publishing", () => {
  useStrictNock();

  async function githubApi() {
    return tokenGitHubApi();
  }

  it("sends annotations 50 per request; the first request completes the check run", async () => {
    const gh = new GitHubMock("acme", "demo").updateCheckRun(31, 3);
    const content = buildCheckRunContent(
      cycle([result("biome/use-const", { trust: 0.9, success: true, changes: 120 })]),
      {
        offerApply: true,
      },
    );
    // The check run content keeps 50; content with more (as a configuration check run may have) is sent in batches.
    expect(content.annotations).toHaveLength(50);
    const first = content.annotations[0] as (typeof content.annotations)[number];
    const annotations = Array.from({ length: 120 }, (_, i) => ({ ...first, start_line: i + 1, end_line: i + 1 }));
    const sent = await publishCheckRun(
      await githubApi(),
      { owner: "acme", repo: "demo" },
      31,
      { ...content, annotations },
      {
        now: new Date("2026-01-01T00:00:00Z"),
        skipAnnotations: false,
      },
    );
    expect(sent.requests).toBe(3);
    const bodies = gh.find("PATCH", "/check-runs/31").map((c) => c.body);
    expect(bodies.map((b) => b.output.annotations.length)).toEqual([50, 50, 20]);
    expect(bodies[0]).toMatchObject({
      status: "completed",
      conclusion: "neutral",
      completed_at: "2026-01-01T00:00:00.000Z",
    });
    expect(bodies[0].actions).toHaveLength(1);
    for (const later of bodies.slice(1)) {
      expect(Object.keys(later)).toEqual(["output"]);
      expect(later.output.title).toBe(content.output.title);
    }
  });

  it("does not send annotations again for a retried job whose earlier attempt sent them", async () => {
    const gh = new GitHubMock("acme", "demo").updateCheckRun(32, 1);
    const content = buildCheckRunContent(
      cycle([result("biome/use-const", { trust: 0.9, success: true, changes: 60 })]),
      {
        offerApply: true,
      },
    );
    await publishCheckRun(await githubApi(), { owner: "acme", repo: "demo" }, 32, content, {
      now: new Date(),
      skipAnnotations: true,
    });
    expect(gh.find("PATCH", "/check-runs/32")[0]?.body.output.annotations).toBeUndefined();
  });

  it("a one-off check run is created with its annotations, and one already there is updated without them", async () => {
    const ref = { owner: "acme", repo: "demo" };
    const sha = "c".repeat(40);
    const annotation = {
      path: ".github/odavl.yml",
      start_line: 2,
      end_line: 2,
      annotation_level: "failure" as const,
      title: "Invalid ODAVL configuration",
      message: "budget.maxFiles: too small",
    };
    const p = {
      name: "ODAVL Apply",
      headSha: sha,
      externalId: "apply-r1-d2",
      conclusion: "neutral" as const,
      now: new Date(0),
      output: { title: "No pull request: the fix no longer applies", summary: "s" },
      annotations: [annotation],
      mine: (run: { externalId: string | null }) => run.externalId === "apply-r1-d2",
    };
    // Another job's run of the same name on the commit is not this one's: a new run is created.
    const fresh = new GitHubMock("acme", "demo")
      .findCheckRuns(sha, "ODAVL Apply", [{ id: 40, external_id: "apply-r1-other", status: "completed" }])
      .createCheckRun(41);
    expect(await putCompletedCheckRun(await githubApi(), ref, p)).toBe(41);
    expect(fresh.find("POST", "/check-runs")[0]?.body).toMatchObject({
      external_id: "apply-r1-d2",
      status: "completed",
      conclusion: "neutral",
      output: { title: p.output.title, annotations: [annotation] },
    });
    // Its own run (a retried job) is updated, and its annotations are not sent twice.
    const again = new GitHubMock("acme", "demo")
      .findCheckRuns(sha, "ODAVL Apply", [
        { id: 40, external_id: "apply-r1-other", status: "completed" },
        { id: 41, external_id: "apply-r1-d2", status: "completed" },
      ])
      .updateCheckRun(41);
    expect(await putCompletedCheckRun(await githubApi(), ref, p)).toBe(41);
    const [patch] = again.find("PATCH", "/check-runs/41");
    expect(patch?.body).toMatchObject({
      status: "completed",
      conclusion: "neutral",
      output: { title: p.output.title },
    });
    expect(patch?.body.output.annotations).toBeUndefined();
  });
});
