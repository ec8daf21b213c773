import { describe, expect, it } from "vitest";
import { changedNewLines, countChanges, diffLines, unifiedDiff } from "../../src/engine/diff.js";
import { globToRegExp, matchesAny } from "../../src/engine/glob.js";

describe("line diff", () => {
  it("counts a changed line as one removed and one added", () => {
    expect(countChanges("a\nb\nc\n", "a\nB\nc\n")).toEqual({ linesAdded: 1, linesRemoved: 1 });
  });
  it("counts pure insertions and deletions", () => {
    expect(countChanges("a\nc\n", "a\nb\nc\n")).toEqual({ linesAdded: 1, linesRemoved: 0 });
    expect(countChanges("a\nb\nc\n", "a\nc\n")).toEqual({ linesAdded: 0, linesRemoved: 1 });
    expect(countChanges("", "x\n")).toEqual({ linesAdded: 1, linesRemoved: 0 });
  });
  it("finds the changed lines of the new file", () => {
    expect(changedNewLines("a\nb\nc\nd\n", "a\nB\nc\nD\nE\n")).toEqual([2, 4, 5]);
  });
  it("keeps every line exactly once, in order", () => {
    const ops = diffLines("1\n2\n3\n4\n", "1\n3\n4\n5\n");
    expect(ops.map((o) => `${o.kind}${o.text}`)).toEqual([" 1", "-2", " 3", " 4", "+5"]);
  });
  it("renders a unified diff with hunk headers", () => {
    const d = unifiedDiff("src/a.ts", "let a = 1;\nuse(a);\n", "const a = 1;\nuse(a);\n");
    expect(d).toBe(
      ["--- a/src/a.ts", "+++ b/src/a.ts", "@@ -1,2 +1,2 @@", "-let a = 1;", "+const a = 1;", " use(a);"].join("\n"),
    );
  });
});

describe("protected-path globs", () => {
  it("matches ** across directories and * within one", () => {
    expect(matchesAny("db/migrations/001.ts", ["**/migrations/**"])).toBe(true);
    expect(matchesAny("migrations/001.ts", ["**/migrations/**"])).toBe(true);
    expect(matchesAny("src/migrationsx/a.ts", ["**/migrations/**"])).toBe(false);
    expect(matchesAny("src/types.d.ts", ["**/*.d.ts"])).toBe(true);
    expect(matchesAny("src/a.ts", ["src/*.ts"])).toBe(true);
    expect(matchesAny("src/deep/a.ts", ["src/*.ts"])).toBe(false);
  });
  it("escapes regular-expression characters", () => {
    expect(globToRegExp("a+b.ts").test("a+b.ts")).toBe(true);
    expect(globToRegExp("a+b.ts").test("aab.ts")).toBe(false);
  });
});
