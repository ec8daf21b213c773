import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  CROWD_PRIOR,
  changedLines,
  computeFeatures,
  FEATURE_COUNT,
  FEATURE_SCHEMA_VERSION,
  featureIndex,
  featureNames,
  featureSpecs,
  renderFeatureTable,
  validateFeatureVector,
} from "../../src/model/features.js";
import { compilerOptionRisk, heuristicLogit } from "../../src/model/heuristic.js";
import { FALLBACK_RATE, PRIOR_WEIGHT } from "../../src/model/priors.js";
import { candidate, facts, history, patch, recipe } from "./fixtures.js";

const at = (v: number[], name: string) => v[featureIndex(name)];
const logit = (p: number) => Math.log(p / (1 - p));

describe("feature schema", () => {
  it("is version 3 with unique names and a spec per feature, and no repository description", () => {
    expect(FEATURE_SCHEMA_VERSION).toBe(3);
    // The repository is present only through the heuristic's one number for its compiler options.
    expect(featureNames().filter((n) => n.startsWith("repo."))).toEqual(["repo.ts.optionRisk"]);
    expect(new Set(featureNames()).size).toBe(FEATURE_COUNT);
    expect(featureSpecs().map((s) => s.name)).toEqual(featureNames());
    expect(() => featureIndex("no.such.feature")).toThrow(RangeError);
  });

  it("computes finite values inside every feature's range", () => {
    const extremes = [
      computeFeatures({ candidate: candidate(), facts: facts(), history: history() }),
      computeFeatures({
        candidate: candidate({ linesAdded: 1e9, linesRemoved: -5, targetFindings: Number.NaN }),
        facts: facts({ linesOfCode: 1e12, baselineDiagnostics: 1e9, typescriptVersion: "99.99.0" }),
        history: history({ crowdRuns: 1e9, crowdSuccesses: 2e9, repoRuns: 3, repoConsecutiveFailures: 99 }),
      }),
    ];
    for (const v of extremes) {
      expect(v).toHaveLength(FEATURE_COUNT);
      expect(validateFeatureVector(v)).toEqual([]);
    }
  });

  it("encodes the recipe: family, category, safety and the smoothed crowd rate", () => {
    const v = computeFeatures({
      candidate: candidate({ recipe: recipe({ family: "biome", category: "suspicious", safety: "unsafe" }) }),
      facts: facts(),
      history: history({ crowdSuccesses: 8, crowdRuns: 10 }),
    });
    expect(at(v, "recipe.family.biome")).toBe(1);
    expect(at(v, "recipe.family.eslint")).toBe(0);
    expect(at(v, "recipe.category.other")).toBe(1);
    expect(at(v, "recipe.category.style")).toBe(0);
    expect(at(v, "recipe.unsafe")).toBe(1);
    const crowd = (8 + CROWD_PRIOR.successes) / (10 + CROWD_PRIOR.successes + CROWD_PRIOR.failures);
    expect(at(v, "recipe.crowd.successRate")).toBeCloseTo(crowd, 12);
    // No repository runs: the repository rate is the crowd rate.
    expect(at(v, "history.repo.successRate")).toBeCloseTo(crowd, 12);
    expect(at(v, "recipe.crowd.runs")).toBeCloseTo(Math.log1p(10) / Math.log1p(100_000), 12);
  });

  it("counts repository history and caps consecutive failures", () => {
    const v = computeFeatures({
      candidate: candidate(),
      facts: facts(),
      history: history({ crowdSuccesses: 0, crowdRuns: 0, repoSuccesses: 1, repoRuns: 4, repoConsecutiveFailures: 3 }),
    });
    const crowd = CROWD_PRIOR.successes / (CROWD_PRIOR.successes + CROWD_PRIOR.failures);
    expect(at(v, "history.repo.successRate")).toBeCloseTo((1 + 2 * crowd) / (4 + 2), 12);
    expect(at(v, "history.repo.consecutiveFailures")).toBeCloseTo(3 / 5, 12);
  });

  it("reads the change: test share, type tests and exported API from the patch's changed lines", () => {
    const c = candidate({
      files: [
        patch("src/index.ts", "export function f(a, b) {}\nconst y = 1;", "export function f(_a, b) {}\nconst y = 1;"),
        patch("test/f.test.ts", "let n = 1;", "const n = 1;"),
        patch("src/types.test-d.ts", "let t = 2;", "const t = 2;"),
        patch("src/internal.ts", "let z = 1;", "const z = 1;"),
      ],
    });
    const v = computeFeatures({ candidate: c, facts: facts(), history: history() });
    expect(at(v, "change.testFileShare")).toBeCloseTo(2 / 4, 12);
    expect(at(v, "change.touchesTypeTests")).toBe(1);
    expect(at(v, "change.touchesExportedApi")).toBe(1);
    const internal = computeFeatures({
      candidate: candidate({
        files: [patch("src/a.ts", "export const a = 1;\nlet b = 2;", "export const a = 1;\nconst b = 2;")],
      }),
      facts: facts(),
      history: history(),
    });
    // The unchanged export line is not a change.
    expect(at(internal, "change.touchesExportedApi")).toBe(0);
    expect(changedLines(candidate({ files: [patch("a.ts", "a\nb\na", "a\nb")] }))).toEqual(["a"]);
  });

  it("reads TypeScript version and the compiler options that break blind fixes", () => {
    const v = computeFeatures({
      candidate: candidate({ scope: "file" }),
      facts: facts({
        strict: false,
        typescriptVersion: "~4.4.3",
        compilerOptions: {
          NoPropertyAccessFromIndexSignature: true,
          strictNullChecks: true,
          emitDecoratorMetadata: true,
          experimentalDecorators: "true",
          verbatimModuleSyntax: true,
        },
      }),
      history: history(),
    });
    expect(at(v, "change.fileScope")).toBe(1);
    // TypeScript 4.4, noPropertyAccessFromIndexSignature, strictNullChecks, emitDecoratorMetadata and
    // verbatimModuleSyntax: every option the heuristic weighs is on.
    expect(at(v, "repo.ts.optionRisk")).toBeCloseTo(1, 12);
    const risk = (f: Parameters<typeof compilerOptionRisk>[0]) => compilerOptionRisk(f);
    const none = {
      oldTypeScript: false,
      noPropertyAccessFromIndexSignature: false,
      strictNullChecks: false,
      emitDecoratorMetadata: false,
      moduleSyntax: false,
    };
    const strictOnly = computeFeatures({
      candidate: candidate(),
      facts: facts({ strict: true, compilerOptions: { strict: true }, typescriptVersion: null }),
      history: history(),
    });
    // strict turns strictNullChecks on; an unknown version is not an old one.
    expect(at(strictOnly, "repo.ts.optionRisk")).toBeCloseTo(risk({ ...none, strictNullChecks: true }), 12);
    const off = computeFeatures({
      candidate: candidate(),
      facts: facts({ strict: true, compilerOptions: { strict: true, strictNullChecks: false } }),
      history: history(),
    });
    expect(at(off, "repo.ts.optionRisk")).toBe(0);
    expect(risk({ ...none, moduleSyntax: true })).toBeGreaterThan(0);
  });

  it("carries the heuristic's logit and the recipe's prior from the shipped priors", () => {
    const priors = { global: { successes: 90, runs: 100 }, recipes: { "eslint/eqeqeq": { successes: 5, runs: 20 } } };
    const known = computeFeatures({
      candidate: candidate({ recipe: recipe({ id: "eslint/eqeqeq" }) }),
      facts: facts(),
      history: history(),
      priors,
    });
    expect(at(known, "heuristic.logit")).toBeCloseTo(heuristicLogit(known), 12);
    expect(at(known, "recipe.prior.logit")).toBeCloseTo(logit((5 + PRIOR_WEIGHT * 0.9) / (20 + PRIOR_WEIGHT)), 12);
    expect(at(known, "recipe.prior.runs")).toBeCloseTo(Math.log1p(20) / Math.log1p(10_000), 12);
    // A recipe the priors do not know starts at their global rate; without priors, at the fallback rate.
    const unknown = computeFeatures({
      candidate: candidate({ recipe: recipe({ id: "eslint/no-such-rule" }) }),
      facts: facts(),
      history: history(),
      priors,
    });
    expect(at(unknown, "recipe.prior.logit")).toBeCloseTo(logit(0.9), 12);
    expect(at(unknown, "recipe.prior.runs")).toBe(0);
    const none = computeFeatures({ candidate: candidate(), facts: facts(), history: history() });
    expect(at(none, "recipe.prior.logit")).toBeCloseTo(logit(FALLBACK_RATE), 12);
  });

  it("validates vectors: length, finiteness, range", () => {
    const good = computeFeatures({ candidate: candidate(), facts: facts(), history: history() });
    expect(validateFeatureVector(good.slice(0, -1)).map((i) => i.kind)).toEqual(["length"]);
    const bad = [...good];
    bad[0] = Number.NaN;
    bad[1] = 2;
    // In range for its own feature: the heuristic's logit is not a share.
    bad[featureIndex("heuristic.logit")] = -3;
    expect(validateFeatureVector(bad).map((i) => [i.kind, i.index])).toEqual([
      ["not-finite", 0],
      ["out-of-range", 1],
    ]);
  });
});

describe("docs/features.md", () => {
  const doc = readFileSync(new URL("../../docs/features.md", import.meta.url), "utf8");

  it("names every feature", () => {
    for (const name of featureNames()) expect(doc).toContain(`\`${name}\``);
  });

  it("holds the table generated from the schema", () => {
    expect(doc).toContain(`schema version ${FEATURE_SCHEMA_VERSION}`);
    expect(doc).toContain(renderFeatureTable());
  });
});
