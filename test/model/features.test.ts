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
import { candidate, facts, history, patch, recipe } from "./fixtures.js";

const at = (v: number[], name: string) => v[featureIndex(name)];

describe("feature schema", () => {
  it("is version 2 with unique names and a spec per feature", () => {
    expect(FEATURE_SCHEMA_VERSION).toBe(2);
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
    expect(at(v, "repo.ts.versionKnown")).toBe(1);
    expect(at(v, "repo.ts.version")).toBeCloseTo(0.404, 12);
    expect(at(v, "repo.ts.atLeast45")).toBe(0);
    expect(at(v, "repo.ts.noPropertyAccessFromIndexSignature")).toBe(1);
    expect(at(v, "repo.ts.strictNullChecks")).toBe(1);
    expect(at(v, "repo.ts.emitDecoratorMetadata")).toBe(1);
    expect(at(v, "repo.ts.experimentalDecorators")).toBe(1);
    expect(at(v, "repo.ts.isolatedModules")).toBe(0);
    expect(at(v, "repo.ts.verbatimModuleSyntax")).toBe(1);
    const strictOnly = computeFeatures({
      candidate: candidate(),
      facts: facts({ strict: true, compilerOptions: { strict: true }, typescriptVersion: null }),
      history: history(),
    });
    expect(at(strictOnly, "repo.ts.strictNullChecks")).toBe(1);
    expect(at(strictOnly, "repo.ts.versionKnown")).toBe(0);
    expect(at(strictOnly, "repo.ts.atLeast45")).toBe(0);
    const off = computeFeatures({
      candidate: candidate(),
      facts: facts({ strict: true, compilerOptions: { strict: true, strictNullChecks: false } }),
      history: history(),
    });
    expect(at(off, "repo.ts.strictNullChecks")).toBe(0);
    expect(at(off, "repo.ts.atLeast45")).toBe(1);
  });

  it("validates vectors: length, finiteness, range", () => {
    const good = computeFeatures({ candidate: candidate(), facts: facts(), history: history() });
    expect(validateFeatureVector(good.slice(1)).map((i) => i.kind)).toEqual(["length"]);
    const bad = [...good];
    bad[0] = Number.NaN;
    bad[1] = 2;
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
