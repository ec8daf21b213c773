import { describe, expect, it } from "vitest";
import { isContainedPath } from "../../src/recipes/shared/files.js";
import {
  applyTextEdits,
  codePointColumnToUtf16,
  detectIndent,
  detectNewline,
  OverlappingEditsError,
} from "../../src/recipes/shared/text.js";

describe("applyTextEdits", () => {
  it("applies edits in any order, keeping insertions at one offset in their given order", () => {
    const text = "const a = 1;";
    const edits = [
      { start: 12, end: 12, newText: " // b" },
      { start: 0, end: 5, newText: "let" },
      { start: 12, end: 12, newText: " // c" },
    ];
    expect(applyTextEdits(text, edits)).toBe("let a = 1; // b // c");
  });

  it("ignores exact duplicates and rejects overlapping edits", () => {
    const edit = { start: 0, end: 3, newText: "x" };
    expect(applyTextEdits("abcdef", [edit, { ...edit }])).toBe("xdef");
    expect(() => applyTextEdits("abcdef", [edit, { start: 2, end: 4, newText: "y" }])).toThrow(OverlappingEditsError);
  });
});

describe("format detection", () => {
  it("detects line endings and indentation", () => {
    expect(detectNewline("a\r\nb\r\n")).toBe("\r\n");
    expect(detectNewline("a\nb")).toBe("\n");
    expect(detectIndent("f() {\n    x();\n        y();\n}\n")).toEqual({ tabs: false, size: 4 });
    expect(detectIndent("/**\n * doc\n */\nf() {\n  x();\n}\n")).toEqual({ tabs: false, size: 2 });
    expect(detectIndent("f() {\n\tx();\n}\n")).toEqual({ tabs: true, size: 4 });
  });
});

describe("codePointColumnToUtf16", () => {
  it("converts columns past astral characters", () => {
    const line = 'const f = "😀"; let n = 1;';
    expect(codePointColumnToUtf16(line, 1)).toBe(1);
    expect(codePointColumnToUtf16(line, 16)).toBe(line.indexOf("let") + 1);
  });
});

describe("isContainedPath", () => {
  it("accepts relative paths below the base and nothing else", () => {
    expect(isContainedPath("src/a.ts")).toBe(true);
    expect(isContainedPath("src/..a.ts")).toBe(true);
    expect(isContainedPath("../a.ts")).toBe(false);
    expect(isContainedPath("src/../../a.ts")).toBe(false);
    expect(isContainedPath("/etc/a.ts")).toBe(false);
    expect(isContainedPath("")).toBe(false);
  });
});
