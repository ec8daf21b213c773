import { describe, expect, it } from "vitest";
import {
  applyHunks,
  changedNewLines,
  countChanges,
  diffLines,
  hunks,
  hunkTouches,
  lineMapping,
  unifiedDiff,
} from "../../src/engine/diff.js";
import { matchesAny } from "../../src/engine/glob.js";

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
    expect(matchesAny("a+b.ts", ["a+b.ts"])).toBe(true);
    expect(matchesAny("aab.ts", ["a+b.ts"])).toBe(false);
  });
});

describe("hunks and line mapping", () => {
  const before = "a\nb\nc\nd\ne\n";
  const after = "a\nB1\nB2\nc\ne\nf\n";
  it("lists each run of changed lines with both sides", () => {
    expect(hunks(before, after)).toEqual([
      { oldStart: 2, oldEnd: 2, newStart: 2, newEnd: 3 },
      { oldStart: 4, oldEnd: 4, newStart: 5, newEnd: 4 },
      { oldStart: 6, oldEnd: 5, newStart: 6, newEnd: 6 },
    ]);
  });
  it("maps unchanged lines to their new line and changed lines to their hunk's new range", () => {
    const map = lineMapping(before, after);
    expect(map(1)).toEqual({ from: 1, to: 1 });
    expect(map(2)).toEqual({ from: 2, to: 3 });
    expect(map(3)).toEqual({ from: 4, to: 4 });
    // A deleted line maps to an empty range: nothing after the patch can be its finding.
    expect(map(4)).toEqual({ from: 5, to: 4 });
    expect(map(5)).toEqual({ from: 5, to: 5 });
  });
  it("applies only the hunks asked for, and all or none of them exactly", () => {
    expect(applyHunks(before, after, (h) => h.oldStart === 2)).toBe("a\nB1\nB2\nc\nd\ne\n");
    expect(applyHunks(before, after, (h) => h.oldStart === 6)).toBe("a\nb\nc\nd\ne\nf\n");
    expect(applyHunks(before, after, () => true)).toBe(after);
    expect(applyHunks(before, after, () => false)).toBe(before);
    expect(applyHunks("x\ny", "x\nY\n", () => true)).toBe("x\nY\n");
  });
  it("says whether a hunk touches given old lines (an insertion touches its neighbours)", () => {
    expect(hunkTouches({ oldStart: 2, oldEnd: 3, newStart: 2, newEnd: 2 }, new Set([3]))).toBe(true);
    expect(hunkTouches({ oldStart: 2, oldEnd: 3, newStart: 2, newEnd: 2 }, new Set([4]))).toBe(false);
    expect(hunkTouches({ oldStart: 4, oldEnd: 3, newStart: 4, newEnd: 4 }, new Set([3]))).toBe(true);
  });
});

describe("partial application", () => {
  it("takes a line-for-line rewrite one line at a time", () => {
    expect(applyHunks("let a;\nlet b;\nx\n", "const a;\nconst b;\nx\n", (h) => h.oldStart === 1)).toBe(
      "const a;\nlet b;\nx\n",
    );
  });
});
