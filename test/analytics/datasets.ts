/**
 * The datasets of the analytics tests.
 *
 * LEDGER: 45 model-scored samples with verified outcomes, built from nine kinds whose counts give a paired table
 * the tests can work out by hand, plus predictions that must not count as samples (heuristic only, an error
 * outcome, no outcome, a model that timed out). Tier thresholds are the defaults: review 0.65, auto-apply 0.85.
 *
 *   kind  n   ml    heur  outcome  model  heuristic  recipe                     repository
 *   K1    20  0.90  0.70  success  right  right      eslint/prefer-const        acme/small
 *   K2     6  0.90  0.50  success  right  wrong      ts/remove-unused-imports   acme/small
 *   K3     4  0.70  0.90  success  right  right      eslint/prefer-const        acme/medium
 *   K4     6  0.30  0.20  failure  right  right      ts/remove-unused-imports   acme/medium
 *   K5     3  0.40  0.80  failure  right  wrong      biome/use-optional-chain   acme/medium
 *   K6     2  0.60  0.95  success  wrong  right      biome/use-optional-chain   acme/medium
 *   K7     1  0.88  0.30  failure  wrong  right      biome/use-optional-chain   acme/medium
 *   K8     2  0.20  0.10  success  wrong  wrong      biome/use-optional-chain   acme/nofacts
 *   K9     1  0.75  0.90  failure  wrong  wrong      biome/use-optional-chain   acme/medium
 *
 * K1-K4 are made on 2025-03-01 from 10:00 UTC, K5-K9 on 2025-03-02 from 09:00 UTC, one a minute.
 */
import type { RepoSpec, SampleSpec } from "./fixtures.js";

export const LEDGER_REPOS: RepoSpec[] = [
  { owner: "acme", name: "small", facts: { linesOfCode: 5_000, hasTests: true, framework: "react" } },
  { owner: "acme", name: "medium", facts: { linesOfCode: 50_000, hasTests: false, framework: null } },
  { owner: "acme", name: "nofacts", facts: null },
];

interface Kind {
  n: number;
  ml: number;
  h: number;
  success: boolean;
  recipe: string;
  repo: string;
  day: 1 | 2;
}

const KINDS: Kind[] = [
  { n: 20, ml: 0.9, h: 0.7, success: true, recipe: "eslint/prefer-const", repo: "acme/small", day: 1 },
  { n: 6, ml: 0.9, h: 0.5, success: true, recipe: "ts/remove-unused-imports", repo: "acme/small", day: 1 },
  { n: 4, ml: 0.7, h: 0.9, success: true, recipe: "eslint/prefer-const", repo: "acme/medium", day: 1 },
  { n: 6, ml: 0.3, h: 0.2, success: false, recipe: "ts/remove-unused-imports", repo: "acme/medium", day: 1 },
  { n: 3, ml: 0.4, h: 0.8, success: false, recipe: "biome/use-optional-chain", repo: "acme/medium", day: 2 },
  { n: 2, ml: 0.6, h: 0.95, success: true, recipe: "biome/use-optional-chain", repo: "acme/medium", day: 2 },
  { n: 1, ml: 0.88, h: 0.3, success: false, recipe: "biome/use-optional-chain", repo: "acme/medium", day: 2 },
  { n: 2, ml: 0.2, h: 0.1, success: true, recipe: "biome/use-optional-chain", repo: "acme/nofacts", day: 2 },
  { n: 1, ml: 0.75, h: 0.9, success: false, recipe: "biome/use-optional-chain", repo: "acme/medium", day: 2 },
];

const DAY1 = Date.parse("2025-03-01T10:00:00Z");
const DAY2 = Date.parse("2025-03-02T09:00:00Z");
const MINUTE = 60_000;

/**
 * The 45 samples get latencies 1..45 ms in order. Then, on day 1: three heuristic-only predictions (no model
 * loaded, 500 ms, verified); on day 2: two model-scored predictions without outcome (46, 47 ms), one with an
 * error outcome (48 ms), and one where the model timed out (300 ms, verified).
 */
export function ledgerSamples(): SampleSpec[] {
  const out: SampleSpec[] = [];
  let day1 = 0;
  let day2 = 0;
  const at = (day: 1 | 2) => new Date(day === 1 ? DAY1 + day1++ * MINUTE : DAY2 + day2++ * MINUTE);
  let latency = 1;
  for (const k of KINDS) {
    for (let i = 0; i < k.n; i++) {
      out.push({
        repo: k.repo,
        recipeId: k.recipe,
        mlTrust: k.ml,
        heuristicTrust: k.h,
        usedMl: true,
        latencyMs: latency++,
        createdAt: at(k.day),
        outcome: { success: k.success },
      });
    }
  }
  const extra = (
    s: Omit<SampleSpec, "repo" | "recipeId" | "heuristicTrust" | "createdAt">,
    day: 1 | 2,
  ): SampleSpec => ({
    repo: "acme/medium",
    recipeId: "eslint/prefer-const",
    heuristicTrust: 0.9,
    ...s,
    createdAt: at(day),
  });
  for (let i = 0; i < 3; i++) {
    out.push(
      extra({ mlTrust: null, usedMl: false, fallbackCause: "missing", latencyMs: 500, outcome: { success: true } }, 1),
    );
  }
  out.push(extra({ mlTrust: 0.9, usedMl: true, latencyMs: 46, outcome: null }, 2));
  out.push(extra({ mlTrust: 0.9, usedMl: true, latencyMs: 47, outcome: null }, 2));
  out.push(extra({ mlTrust: 0.9, usedMl: true, latencyMs: 48, outcome: { success: false, status: "error" } }, 2));
  out.push(
    extra({ mlTrust: null, usedMl: false, fallbackCause: "timeout", latencyMs: 300, outcome: { success: true } }, 2),
  );
  return out;
}

/** "Now" of the data-check and progress tests. */
export const CHECK_NOW = new Date("2025-06-15T12:00:00Z");
const HOUR = 3_600_000;

/**
 * CLEAN: 80 model-scored predictions, prediction i made (6 i + 1) hours before CHECK_NOW (so 28 fall in the
 * last 7 days, 28 in the 7 days before, 24 earlier; 76 are older than 24 hours), alternating between two
 * repositories and four recipes, each with a valid vector, 5 ms latency and a verified outcome. Every tenth
 * (i % 10 == 9) is predicted wrongly: 26 of 28 right in the last 7 days, 25 of 28 in the 7 days before.
 */
export const CLEAN_REPOS: RepoSpec[] = [
  { owner: "octo", name: "alpha", facts: { linesOfCode: 2_000, hasTests: true, framework: null } },
  { owner: "octo", name: "beta", facts: { linesOfCode: 200_000, hasTests: true, framework: "angular" } },
];

const CLEAN_RECIPES = [
  "eslint/prefer-const",
  "ts/remove-unused-imports",
  "biome/use-optional-chain",
  "eslint/dot-notation",
];

export function cleanSamples(): SampleSpec[] {
  return Array.from({ length: 80 }, (_, i) => {
    const success = i % 3 !== 0;
    const right = i % 10 !== 9;
    // Right: a high score for a success, a low one for a failure; wrong: the reverse.
    const ml = success === right ? 0.9 : 0.3;
    return {
      repo: i % 2 === 0 ? "octo/alpha" : "octo/beta",
      recipeId: CLEAN_RECIPES[i % 4] as string,
      mlTrust: ml,
      heuristicTrust: 0.7,
      usedMl: true,
      latencyMs: 5,
      createdAt: new Date(CHECK_NOW.getTime() - (6 * i + 1) * HOUR),
      outcome: { success },
    };
  });
}
