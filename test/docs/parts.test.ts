/** docs/DESIGN.md's parts table names every folder of src/, each on one line, and no other. */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

/** The folders the "Parts" section's table names, in its order (`src/x/` -> "x"). */
function tableFolders(design: string): string[] {
  const section = design.split(/^## /m).find((s) => s.startsWith("Parts"));
  if (!section) throw new Error('docs/DESIGN.md has no "## Parts" section');
  return section
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => {
      const m = /^\| `src\/([^/`]+)\/` \|/.exec(line);
      if (!m?.[1]) throw new Error(`docs/DESIGN.md: a parts row that names no folder of src/: ${line.slice(0, 80)}`);
      return m[1];
    });
}

describe("docs/DESIGN.md's parts table", () => {
  it("has one line for each folder of src/, and no other", () => {
    const folders = readdirSync(join(ROOT, "src"), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    const rows = tableFolders(readFileSync(join(ROOT, "docs/DESIGN.md"), "utf8"));
    expect(folders.length).toBeGreaterThan(10);
    expect(rows.length, "a folder named twice").toBe(new Set(rows).size);
    expect([...rows].sort()).toEqual(folders);
  });

  it("would name a row that is not a folder of src/", () => {
    expect(() => tableFolders("## Parts\n| folder | holds |\n| `migrations/` | SQL |\n")).toThrow(/migrations/);
    expect(tableFolders("## Parts\n| `src/a/` | x |\n| `src/b/` | y |\n## Next\n| `src/c/` | z |\n")).toEqual([
      "a",
      "b",
    ]);
  });
});
