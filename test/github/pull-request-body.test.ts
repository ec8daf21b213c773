/** The pull request body of a fix: its header is a paragraph of its own, and counts read as English. */
import { describe, expect, it } from "vitest";
import type { CycleSummary, RepoFacts } from "../../src/engine/types.js";
import { renderPullRequestBody } from "../../src/github/pull-request.js";
import { sampleResult } from "../helpers/samples.js";

describe("pull request body", () => {
  it("separates the header from the summary and says '1 finding'", () => {
    const result = sampleResult(0, 0);
    const cycle: CycleSummary = {
      id: "c1",
      repository: "acme/demo",
      sha: "a".repeat(40),
      trigger: "apply",
      status: "completed",
      startedAt: "2026-01-01T00:00:00Z",
      durationsMs: {},
      facts: {
        sourceFiles: 3,
        linesOfCode: 40,
        baselineDiagnostics: 0,
        baselineLintFindings: 1,
        testsPassing: "unknown",
        testCommand: null,
      } as unknown as RepoFacts,
      results: [result],
      skipped: [],
      stored: false,
      error: null,
    };
    const body = renderPullRequestBody({ cycle, result, base: "main", headSha: "a".repeat(40), requestedBy: "m" });
    const [header, rest] = body.split(/\n\n(?=\*\*|#|ODAVL found|Repository)/);
    expect(header).toMatch(/heuristic\)\.$|, model [^)]*\)\.$/);
    expect(rest).toBeDefined();
    expect(body).toContain("1 finding,");
    expect(body).not.toContain("1 findings");
  });
});
