import { mkdirSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { linkedPackageTargets } from "../../src/workspace/index.js";
import { tempDir, writeFiles } from "./fixtures.js";

describe("linkedPackageTargets", () => {
  let root: string;

  beforeAll(() => {
    root = tempDir("odavl-links-test-");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("lists node_modules links that leave the checkout, scoped ones included", () => {
    const repo = path.join(root, "repo");
    writeFiles(root, {
      "outside-a/package.json": "{}",
      "outside-b/package.json": "{}",
      "repo/packages/inner/package.json": "{}",
      "repo/node_modules/plain/package.json": "{}",
    });
    mkdirSync(path.join(repo, "node_modules", "@scope"), { recursive: true });
    symlinkSync(path.join(root, "outside-a"), path.join(repo, "node_modules", "a"));
    symlinkSync(path.join(root, "outside-b"), path.join(repo, "node_modules", "@scope", "b"));
    symlinkSync(path.join(repo, "packages", "inner"), path.join(repo, "node_modules", "inner"));
    symlinkSync(path.join(root, "missing"), path.join(repo, "node_modules", "broken"));
    expect(linkedPackageTargets(repo).sort()).toEqual([path.join(root, "outside-a"), path.join(root, "outside-b")]);
  });
});
