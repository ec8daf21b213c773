import { describe, expect, it } from "vitest";
import { beforeSideLines, decodeMappings } from "../../src/runtime/coverage.js";
import { explainFailure, failedTestFiles, parseTestCounts } from "../../src/runtime/test-output.js";
import type { SandboxResult } from "../../src/sandbox/index.js";

const result = (over: Partial<SandboxResult>): SandboxResult => ({
  exitCode: 1,
  signal: null,
  stdout: "",
  stderr: "",
  truncated: false,
  killed: null,
  durationMs: 1,
  isolated: true,
  ...over,
});
const limits = { timeoutMs: 600_000, memoryMb: 4096, maxProcesses: 256 };

describe("test output", () => {
  it("names the test files vitest and jest report as failed, and no others", () => {
    const vitest = [
      " ❯ test/a.test.ts (2 tests | 1 failed) 4ms",
      "⎯⎯⎯⎯⎯⎯⎯ Failed Suites 1 ⎯⎯⎯⎯⎯⎯⎯",
      " FAIL  test/b.test.ts [ test/b.test.ts ]",
      "⎯⎯⎯⎯⎯⎯⎯ Failed Tests 1 ⎯⎯⎯⎯⎯⎯⎯",
      " FAIL  |unit| test/a.test.ts > math > adds",
      " FAIL  /elsewhere/c.test.ts > x",
    ].join("\n");
    expect(failedTestFiles(vitest, "vitest")).toEqual(["test/a.test.ts", "test/b.test.ts"]);
    const jest =
      "PASS test/ok.test.ts\nFAIL src/__tests__/x.spec.ts (5.123 s)\n  ● x › y\nFAIL  unit  test/y.test.js\n";
    expect(failedTestFiles(jest, "jest")).toEqual(["src/__tests__/x.spec.ts", "test/y.test.js"]);
    expect(failedTestFiles(jest, "mocha")).toBeNull();
    expect(failedTestFiles("Tests  3 passed (3)", "vitest")).toBeNull();
  });

  it("reads each runner's counts", () => {
    expect(parseTestCounts(" Test Files  1 failed (1)\n      Tests  3 failed | 5 passed (8)\n", "vitest")).toEqual({
      runner: "vitest",
      passed: 5,
      failed: 3,
      noTests: false,
    });
    expect(parseTestCounts("Tests:       1 failed, 4 passed, 5 total\n", null)).toMatchObject({
      runner: "jest",
      failed: 1,
    });
    expect(parseTestCounts("  2 passing (6ms)\n  1 failing\n", null)).toMatchObject({ runner: "mocha", failed: 1 });
    expect(parseTestCounts("# tests 3\n# pass 2\n# fail 1\n", "node")).toMatchObject({ passed: 2, failed: 1 });
    expect(parseTestCounts("No test files found, exiting with code 1\n", "vitest")).toMatchObject({ noTests: true });
    expect(parseTestCounts("No tests found related to files changed since last commit.\n", "jest")).toMatchObject({
      noTests: true,
    });
    expect(parseTestCounts("something else\n", null)).toBeNull();
  });

  it("says why a run did not count, in one line", () => {
    expect(explainFailure(result({ killed: "memory", exitCode: null }), null, limits)).toBe(
      "stopped by the sandbox: memory (limit 4096 MB)",
    );
    expect(explainFailure(result({ killed: "timeout", exitCode: null }), null, limits)).toBe(
      "stopped by the sandbox: timeout (limit 10 min)",
    );
    expect(explainFailure(result({ exitCode: 127, stderr: "sh: 1: pnpm: not found\n" }), null, limits)).toBe(
      "the test command calls pnpm, which is not available",
    );
    expect(
      explainFailure(
        result({
          stderr:
            "Error: Jest: Failed to parse the TypeScript config file /w/jest.config.ts\n  Error: Jest: 'ts-node' is required for the TypeScript configuration files.",
        }),
        "jest",
        limits,
      ),
    ).toBe("jest.config.ts needs ts-node, which is not installed (or Node 22.6+ to load it without)");
    expect(explainFailure(result({ stdout: "      Tests  3 failed | 1 passed (4)\n" }), "vitest", limits)).toBe(
      "3 failed (vitest)",
    );
    expect(explainFailure(result({ stderr: "Error: Cannot find module '/w/dist/index.js'\n" }), "node", limits)).toBe(
      "a module the tests import is missing: /w/dist/index.js",
    );
    expect(
      explainFailure(result({ exitCode: 2, stderr: "boom\nTypeError: x is not a function\n" }), null, limits),
    ).toBe("exit code 2: TypeError: x is not a function");
  });
});

describe("coverage helpers", () => {
  it("decodes source-map VLQ mappings", () => {
    const segments: number[][] = [];
    // "AAAA;AACA,IAAI": line 0 col 0 -> 0:0; line 1 col 0 -> 1:0, col 4 -> 1:4.
    decodeMappings("AAAA;AACA,IAAI", (gl, gc, s, ol, oc) => segments.push([gl, gc, s, ol, oc]));
    expect(segments).toEqual([
      [0, 0, 0, 0, 0],
      [1, 0, 0, 1, 0],
      [1, 4, 0, 1, 4],
    ]);
    // Multi-digit values and negative deltas: "gBAAgB" is column 16, then "LAAC" moves 5 back and 1 on.
    const cols: number[] = [];
    decodeMappings("gBAAgB,LAAC", (_gl, gc, _s, _ol, oc) => cols.push(gc, oc));
    expect(cols).toEqual([16, 16, 11, 17]);
    expect(() => decodeMappings("A!", () => {})).toThrow(/bad character/);
  });

  it("takes the before-side lines of a change; an insertion counts the line it follows", () => {
    expect([...beforeSideLines("a\nb\nc\n", "a\nB\nc\n")]).toEqual([2]);
    expect([...beforeSideLines("a\nb\nc\n", "a\nb\nx\nc\n")]).toEqual([2]);
    expect([...beforeSideLines("a\nb\nc\nd\n", "a\nc\nD\n")].sort()).toEqual([2, 4]);
  });
});
