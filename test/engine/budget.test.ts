/**
 * The cost budget of a cycle, on a real cycle: at most `maxCandidates` candidates verified, those of highest
 * expected value (trust × findings fixed); what it left out is in the summary. Data collection passes no cap.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_MAX_CANDIDATES, expectedValue } from "../../src/engine/budget.js";
import type { CycleSummary } from "../../src/engine/types.js";
import { renderSummary, toJson } from "../../src/summary/render.js";
import {
  cycleRequest,
  engineDeps,
  removeTempDirs,
  runCycle,
  smallProject,
  tempDir,
  writeRepo,
} from "../helpers/engine.js";

/** `n` prefer-const findings: a candidate fixing `n` of them. */
const lets = (n: number) =>
  `${Array.from({ length: n }, (_, i) => `let v${i} = ${i};`).join("\n")}\nexport { ${Array.from({ length: n }, (_, i) => `v${i}`).join(", ")} };\n`;

describe("the cost budget", () => {
  let dir: string;
  beforeAll(() => {
    dir = join(tempDir(), "repo");
    writeRepo(
      dir,
      smallProject("node -e 0", { "src/a.ts": lets(1), "src/b.ts": lets(2), "src/c.ts": lets(3), "src/d.ts": lets(4) }),
    );
  });
  afterAll(() => removeTempDirs());

  const cycle = (maxCandidates: number | null | undefined): Promise<CycleSummary> =>
    runCycle(
      cycleRequest(dir, {
        recipeIds: ["eslint/prefer-const"],
        runTests: false,
        scopes: ["file"],
        maxFileCandidatesPerRecipe: 10,
        ...(maxCandidates === undefined ? {} : { maxCandidates }),
      }),
      engineDeps(null),
    );

  it("verifies only the candidates of highest expected value and says what it left out", async () => {
    const capped = await cycle(2);
    expect(capped.status).toBe("completed");
    expect(capped.results.map((r) => r.candidate.files[0]?.path)).toEqual(["src/c.ts", "src/d.ts"]);
    for (const r of capped.results) expect(r.outcome?.success).toBe(true);
    expect(capped.cap?.max).toBe(2);
    expect(capped.cap?.planned).toBe(4);
    expect(capped.cap?.leftOut.map((c) => c.key)).toEqual([
      "eslint/prefer-const@src/b.ts",
      "eslint/prefer-const@src/a.ts",
    ]);
    const kept = capped.results.map((r) => expectedValue(r.candidate, r.prediction));
    for (const left of capped.cap?.leftOut ?? []) {
      for (const k of kept) expect(k).toBeGreaterThanOrEqual(left.expectedValue);
    }
    const summary = renderSummary(capped).summary;
    expect(summary).toMatch(
      /Cost budget: 2 of 4 candidates verified, those of highest expected value \(trust × findings fixed\); left out: `eslint\/prefer-const@src\/b\.ts` \(\d\.\d\d\), `eslint\/prefer-const@src\/a\.ts` \(\d\.\d\d\)\./,
    );
    expect(toJson(capped)).toMatchObject({ cap: { max: 2, planned: 4 } });
  }, 300_000);

  it("no cap (data collection) verifies every candidate; the default cap is 40", async () => {
    const all = await cycle(null);
    expect(all.results).toHaveLength(4);
    expect(all.cap).toBeUndefined();
    expect(renderSummary(all).summary).not.toContain("Cost budget");
    expect(DEFAULT_MAX_CANDIDATES).toBe(40);
  }, 300_000);
});
