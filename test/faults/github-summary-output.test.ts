/**
 * 10 MB of hostile test output (terminal escapes, markdown, HTML, mentions, code fences) in every place a cycle's
 * text reaches the check run: the test and failure reasons, the cycle's error, the trust reason, skipped items and
 * the fixed code itself. What is sent to GitHub (through nock) fits its limits, holds no terminal escape, and
 * cannot render the attacker's markdown: no link, image, HTML tag or mention of theirs, and no line of theirs
 * closes our code fences.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { CandidateResult, CycleSummary } from "../../src/engine/types.js";
import type { GitHubApi } from "../../src/github/api.js";
import { buildCheckRunContent, failCheckRun, publishCheckRun } from "../../src/github/check-run.js";
import { RECIPES } from "../../src/recipes/index.js";
import { GITHUB_TEXT_LIMIT } from "../../src/summary/render.js";
import { GitHubMock, useStrictNock } from "../github/helpers/github-mock.js";
import { tokenGitHubApi } from "../github/helpers/probot.js";
import { ONE_FINDING_FIXED } from "../helpers/samples.js";

const REF = { owner: "acme", repo: "demo" };
const ESC = "\u001b";

/** One screenful of everything a hostile test run can print. */
const HOSTILE = [
  `${ESC}[31mFAIL${ESC}[0m src/a.test.ts ${ESC}[2K${ESC}[1A${ESC}[?25l`,
  `${ESC}]8;;https://evil.example/${ESC}\\click me${ESC}]8;;${ESC}\\ and ${ESC}]0;window title\u0007`,
  "# Heading from the test output",
  "[phishing](https://evil.example/login) ![tracker](https://evil.example/pixel.png)",
  "<img src=x onerror=alert(1)> <script>alert(2)</script> <details open><summary>hidden</summary>",
  "@octocat @github/security please look",
  "```",
  "````js",
  "~~~",
  "| a | b |\n|---|---|\n| 1 | 2 |",
  "\u0007\u0008\u000b\u000c\u007f",
].join("\n");

/** About 10 MB of it. */
const TEN_MB = `${HOSTILE}\n`.repeat(Math.ceil((10 * 2 ** 20) / (HOSTILE.length + 1)));

const recipe = RECIPES.find((r) => r.id === "biome/use-const") ?? RECIPES[0];

function hostileResult(i: number): CandidateResult {
  const before = `const a = 1;\n${HOSTILE}\nlet b = 2;\n`;
  const after = `const a = 1;\n${HOSTILE.replaceAll("FAIL", "PASS")}\nconst b = 2;\n`;
  return {
    candidate: {
      key: `${recipe?.id}@all#${i}`,
      recipe: recipe as (typeof RECIPES)[number],
      scope: "all",
      files: [{ path: `src/${i}.ts`, before, after, linesAdded: 12, linesRemoved: 12 }],
      linesAdded: 12,
      linesRemoved: 12,
      targetFindings: 1,
      patchHash: `p${i}`,
    },
    prediction: {
      featureSchemaVersion: 2,
      features: [],
      mlTrust: null,
      heuristicTrust: 0.9,
      trust: 0.9,
      tier: "auto-apply",
      usedML: false,
      fallbackCause: TEN_MB,
      modelVersion: null,
      latencyMs: 1,
      confidence: 0.5,
      reason: TEN_MB,
    },
    outcome: {
      success: i % 2 === 0,
      status: i % 3 === 0 ? "error" : "verified",
      ...ONE_FINDING_FIXED,
      tests: "fail",
      testsReason: TEN_MB,
      verificationScore: 0.5,
      failureCause: TEN_MB,
      durationsMs: { apply: 0, typecheck: 0, lint: 0, tests: 0, total: 0 },
    },
  };
}

function hostileCycle(): CycleSummary {
  return {
    id: "c",
    repository: "acme/demo",
    sha: "a".repeat(40),
    trigger: "push",
    status: "failed",
    startedAt: "2026-01-01T00:00:00Z",
    durationsMs: {},
    facts: null,
    results: [hostileResult(0), hostileResult(1), hostileResult(2)],
    skipped: [{ file: `${ESC}[31mvendor/x.ts`, reason: TEN_MB }],
    stored: false,
    error: TEN_MB,
  };
}

/** Control characters other than newline and tab (terminal escapes start with ESC). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this looks for.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

/** What the attacker's markdown would render if it were not neutralised. */
const RENDERED_MARKUP = [
  /(?<!\\)\[phishing(?<!\\)\]\(/,
  /(?<!\\)!(?<!\\)\[tracker/,
  /(?<!\\)<img\b/i,
  /(?<!\\)<script\b/i,
  /(?<!\\)<details open/i,
  /@octocat(?!\u200b)/,
  /@github(?!\u200b)/,
];

/** Lines that open or close a fenced code block (up to three spaces, then three or more backticks or tildes). */
function fenceLines(markdown: string): string[] {
  return markdown.split("\n").filter((l) => /^ {0,3}(`{3,}|~{3,})/.test(l));
}

function checkText(label: string, text: string, limit: number): void {
  expect(text.length, `${label} length`).toBeLessThanOrEqual(limit);
  expect(CONTROL.test(text), `${label} holds a control character`).toBe(false);
  for (const markup of RENDERED_MARKUP) expect(markup.test(text), `${label} renders ${markup}`).toBe(false);
}

describe("hostile test output in the check run", () => {
  useStrictNock();
  let api: GitHubApi;
  beforeAll(async () => {
    api = await tokenGitHubApi();
  });

  it("caps, strips and neutralises 10 MB of it in what is sent to GitHub", async () => {
    const started = performance.now();
    const content = buildCheckRunContent(hostileCycle(), { offerApply: true });
    const gh = new GitHubMock("acme", "demo").updateCheckRun(
      9,
      Math.max(1, Math.ceil(content.annotations.length / 50)),
    );
    await publishCheckRun(api, REF, 9, content, { now: new Date(0), skipAnnotations: false });
    const ms = performance.now() - started;
    const [sent] = gh.find("PATCH", "/check-runs/9");
    const output = sent?.body.output as { title: string; summary: string; text: string; annotations: object[] };
    console.log(
      `10 MB of output: title ${output.title.length}, summary ${output.summary.length}, text ${output.text.length} ` +
        `characters, ${output.annotations?.length ?? 0} annotations, built and sent in ${ms.toFixed(0)} ms`,
    );
    expect(output.title.length).toBeLessThanOrEqual(255);
    expect(CONTROL.test(output.title)).toBe(false);
    checkText("summary", output.summary, GITHUB_TEXT_LIMIT);
    checkText("text", output.text, GITHUB_TEXT_LIMIT);
    for (const a of output.annotations ?? []) checkText("annotation", JSON.stringify(a), 70_000);
    // The details hold the diffs in ```diff blocks: every fence line is one of ours, opening or closing; the
    // output's own fence lines stay inside and close nothing.
    const fences = fenceLines(output.text);
    expect(fences.length).toBeGreaterThan(0);
    expect(fences.filter((l) => l !== "```diff" && l !== "```")).toEqual([]);
    expect(fences.filter((_, i) => i % 2 === 0).every((l) => l === "```diff")).toBe(true);
    // The summary has no code block of the attacker's (a stray fence would swallow the rest of it).
    expect(fenceLines(output.summary)).toEqual([]);
  });

  it("caps, strips and neutralises it in the check run of a failed job", async () => {
    const gh = new GitHubMock("acme", "demo").updateCheckRun(9);
    await failCheckRun(api, REF, 9, { now: new Date(0), error: TEN_MB, attempts: 4 });
    const output = gh.find("PATCH", "/check-runs/9")[0]?.body.output as { title: string; summary: string };
    checkText("summary", output.summary, GITHUB_TEXT_LIMIT);
    expect(fenceLines(output.summary)).toEqual([]);
  });
});
