import { describe, expect, it } from "vitest";
import { parseRepoConfig, RepoConfigError } from "../../src/engine/repo-config.js";

function issues(text: string) {
  try {
    parseRepoConfig(text);
  } catch (err) {
    if (err instanceof RepoConfigError) return err.issues;
    throw err;
  }
  throw new Error("expected a RepoConfigError");
}

describe(".github/odavl.yml tests", () => {
  it("is absent by default and reads command, setup and timeout", () => {
    expect(parseRepoConfig("").tests).toBeUndefined();
    expect(
      parseRepoConfig("tests:\n  command: npm run test:unit\n  setup: npm run build\n  timeout: 300\n").tests,
    ).toEqual({ command: "npm run test:unit", setup: "npm run build", timeout: 300 });
  });

  it("takes a timeout in seconds or as a duration", () => {
    expect(parseRepoConfig("tests: { timeout: 90s }").tests?.timeout).toBe(90);
    expect(parseRepoConfig("tests: { timeout: 10m }").tests?.timeout).toBe(600);
  });

  it("refuses bad values with the key and line", () => {
    expect(issues("dataCollection: true\ntests:\n  command: ''\n")).toEqual([
      { path: "tests.command", message: "must not be empty", line: 3 },
    ]);
    expect(issues("tests:\n  timeout: 5\n")[0]).toMatchObject({
      path: "tests.timeout",
      message: "must be at least 10 seconds",
      line: 2,
    });
    expect(issues("tests: { timeout: 2h }")[0]).toMatchObject({
      path: "tests.timeout",
      message: expect.stringContaining('"90s" or "10m"'),
    });
    expect(issues("tests: { timeout: 7200 }")[0]?.message).toBe("must be at most 1 hour (3600 seconds)");
    expect(issues("tests: { comand: npm test }")[0]).toMatchObject({
      path: "tests",
      message: expect.stringContaining("comand"),
    });
  });
});
