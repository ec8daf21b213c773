import { rmSync, symlinkSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { safeListFiles } from "../../src/workspace/index.js";
import { fixtureGit, tempDir, writeFiles } from "./fixtures.js";

describe("safeListFiles", () => {
  let root: string;
  let outside: string;

  const populate = (dir: string) => {
    writeFiles(dir, {
      "src/a.ts": "export const a = 1;\n",
      "src/b.ts": "export const b = 2;\n",
      "README.md": "# readme\n",
      "assets/logo.png": Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02]),
      "data/big.json": `[${"1,".repeat(3000)}1]`,
      "node_modules/dep/index.js": "module.exports = 1;\n",
    });
    symlinkSync(path.join(outside, "secret.txt"), path.join(dir, "escape.txt"));
    symlinkSync("/etc", path.join(dir, "etc-dir"));
    symlinkSync("src/a.ts", path.join(dir, "alias.ts"));
    symlinkSync("missing.ts", path.join(dir, "dangling.ts"));
  };

  beforeAll(() => {
    root = tempDir("odavl-files-test-");
    outside = path.join(root, "outside");
    writeFiles(outside, { "secret.txt": "secret" });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const expectedSkips = [
    { file: "alias.ts", reason: "symlink" },
    { file: "assets/logo.png", reason: "binary" },
    { file: "dangling.ts", reason: "symlink-broken" },
    { file: "data/big.json", reason: "too-large" },
    { file: "escape.txt", reason: "symlink-outside" },
    { file: "etc-dir", reason: "symlink-outside" },
  ];
  const sortSkips = (s: { file: string; reason: string }[]) => [...s].sort((a, b) => a.file.localeCompare(b.file));

  it("lists tracked files of a git repository and reports what it skipped", async () => {
    const dir = path.join(root, "git");
    populate(dir);
    writeFiles(dir, { ".gitignore": "node_modules\n" });
    fixtureGit(dir, ["init", "-q"]);
    fixtureGit(dir, ["add", "-A"]);
    fixtureGit(dir, ["commit", "-q", "-m", "files"]);
    writeFiles(dir, { "untracked.ts": "export {};\n" });
    const listed = await safeListFiles(dir, { maxFileBytes: 1000 });
    expect(listed.files).toEqual([".gitignore", "README.md", "src/a.ts", "src/b.ts"]);
    expect(sortSkips(listed.skipped)).toEqual(expectedSkips);
  });

  it("walks a plain directory, leaving node_modules out", async () => {
    const dir = path.join(root, "plain");
    populate(dir);
    const listed = await safeListFiles(dir, { maxFileBytes: 1000 });
    expect(listed.files).toEqual(["README.md", "src/a.ts", "src/b.ts"]);
    expect(sortSkips(listed.skipped)).toEqual(expectedSkips);
  });
});
