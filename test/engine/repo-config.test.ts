import { describe, expect, it } from "vitest";
import { DEFAULT_REPO_CONFIG, parseRepoConfig, RepoConfigError } from "../../src/engine/repo-config.js";

function issues(text: string) {
  try {
    parseRepoConfig(text);
  } catch (err) {
    if (err instanceof RepoConfigError) return err.issues;
    throw err;
  }
  throw new Error("expected a RepoConfigError");
}

describe(".github/odavl.yml", () => {
  it("an empty file gives the defaults (consent off)", () => {
    expect(parseRepoConfig("")).toEqual(DEFAULT_REPO_CONFIG);
    expect(DEFAULT_REPO_CONFIG.dataCollection).toBe(false);
    expect(DEFAULT_REPO_CONFIG.autoApply).toBe(false);
    expect(DEFAULT_REPO_CONFIG.budget).toEqual({ maxFiles: 10, maxLinesPerFile: 40 });
  });
  it("reads every setting", () => {
    const cfg = parseRepoConfig(
      [
        "dataCollection: true",
        "autoApply: true",
        "schedule: weekly",
        "recipes:",
        "  disable: [eslint/eqeqeq]",
        "budget: { maxFiles: 3, maxLinesPerFile: 10 }",
        "protectedPaths: ['src/generated/**']",
        "thresholds: { autoApply: 0.9, review: 0.7 }",
      ].join("\n"),
    );
    expect(cfg).toMatchObject({
      dataCollection: true,
      autoApply: true,
      schedule: "weekly",
      recipes: { disable: ["eslint/eqeqeq"] },
      budget: { maxFiles: 3, maxLinesPerFile: 10 },
      protectedPaths: ["src/generated/**"],
      thresholds: { autoApply: 0.9, review: 0.7 },
    });
  });
  it("names the key and the line of a wrong type", () => {
    const [issue] = issues("schedule: daily\ndataCollection: maybe\n");
    expect(issue?.path).toBe("dataCollection");
    expect(issue?.line).toBe(2);
  });
  it("rejects unknown keys, naming them", () => {
    const [issue] = issues("dataColection: true\n");
    expect(issue?.message).toContain("dataColection");
  });
  it("rejects YAML syntax errors with a line", () => {
    const [issue] = issues("budget: {maxFiles: 3\n");
    expect(issue?.line).toBeGreaterThanOrEqual(1);
  });
  it("refuses an alias bomb without expanding it", () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 12; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(", ")}]`,
      );
    expect(() => parseRepoConfig(bomb.join("\n"))).toThrow(RepoConfigError);
  });
  it("refuses a huge file", () => {
    expect(() => parseRepoConfig(`# ${"x".repeat(70_000)}\n`)).toThrow(/larger than/);
  });
  it("refuses a review threshold above auto-apply", () => {
    expect(issues("thresholds: { autoApply: 0.7, review: 0.8 }")[0]?.path).toBe("thresholds.review");
  });
});
