/** Candidates, facts and histories for feature tests. */
import type { Candidate, FilePatch, RepoFacts } from "../../src/engine/types.js";
import type { RecipeHistory } from "../../src/model/types.js";
import type { Recipe } from "../../src/recipes/types.js";

export function recipe(overrides: Partial<Recipe> = {}): Recipe {
  return {
    id: "eslint/prefer-const",
    family: "eslint",
    title: "Prefer const",
    category: "style",
    safety: "safe",
    params: { rule: "prefer-const" },
    ...overrides,
  };
}

export function patch(path: string, before: string, after: string): FilePatch {
  const b = before.split("\n");
  const a = after.split("\n");
  return { path, before, after, linesAdded: Math.max(0, a.length - b.length) + 1, linesRemoved: 1 };
}

export function candidate(overrides: Partial<Candidate> = {}): Candidate {
  const files = overrides.files ?? [patch("src/a.ts", "let x = 1;\nuse(x);", "const x = 1;\nuse(x);")];
  return {
    key: "eslint/prefer-const:all",
    recipe: recipe(),
    scope: "all",
    files,
    linesAdded: files.reduce((s, f) => s + f.linesAdded, 0),
    linesRemoved: files.reduce((s, f) => s + f.linesRemoved, 0),
    targetFindings: 1,
    patchHash: "h",
    ...overrides,
  };
}

export function facts(overrides: Partial<RepoFacts> = {}): RepoFacts {
  return {
    sourceFiles: 40,
    testFiles: 10,
    linesOfCode: 5000,
    hasTests: true,
    testCommand: "npm test",
    testsPassing: "pass",
    strict: true,
    compilerOptions: { strict: true },
    typescriptVersion: "5.4.5",
    baselineDiagnostics: 0,
    baselineLintFindings: 12,
    framework: null,
    ...overrides,
  };
}

export function history(overrides: Partial<RecipeHistory> = {}): RecipeHistory {
  return { crowdSuccesses: 0, crowdRuns: 0, repoSuccesses: 0, repoRuns: 0, repoConsecutiveFailures: 0, ...overrides };
}
