import {
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkout, createWorkingCopy, createWorkspaceRoot, linkedPackageTargets } from "../../src/workspace/index.js";
import { fixtureGit, tempDir, writeFiles } from "./fixtures.js";

let root: string;
let repo: string;

beforeAll(() => {
  root = tempDir("odavl-working-copy-test-");
  repo = path.join(root, "repo");
  writeFiles(repo, {
    "src/a.ts": "export const a = 1;\n",
    "packages/inner/package.json": JSON.stringify({ name: "inner" }),
    "packages/inner/index.ts": "export const inner = 1;\n",
    "node_modules/plain/package.json": JSON.stringify({ name: "plain" }),
    "node_modules/@scope/pkg/package.json": JSON.stringify({ name: "@scope/pkg" }),
  });
  // A workspace package, linked the way npm and pnpm workspaces do.
  symlinkSync("../packages/inner", path.join(repo, "node_modules", "inner"));
  fixtureGit(repo, ["init", "--quiet"]);
  fixtureGit(repo, ["add", "src", "packages"]);
  fixtureGit(repo, ["commit", "--quiet", "-m", "first"]);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("createWorkingCopy", () => {
  it("copies the working tree without .git into a fresh 0700 directory, and removes it", async () => {
    writeFiles(repo, { "src/uncommitted.ts": "export const b = 2;\n" });
    const copy = await createWorkingCopy(repo, root);
    try {
      const parent = path.dirname(copy.dir);
      expect(statSync(parent).mode & 0o777).toBe(0o700);
      expect(existsSync(path.join(copy.dir, ".git"))).toBe(false);
      expect(readFileSync(path.join(copy.dir, "src", "uncommitted.ts"), "utf8")).toBe("export const b = 2;\n");
      // Installed packages are links to the checkout's (exposed read-only in the sandbox), never copies.
      expect(lstatSync(path.join(copy.dir, "node_modules", "plain")).isSymbolicLink()).toBe(true);
      expect(realpathSync(path.join(copy.dir, "node_modules", "@scope", "pkg"))).toBe(
        path.join(repo, "node_modules", "@scope", "pkg"),
      );
      // A workspace package is the copy's own, not the checkout's.
      expect(readlinkSync(path.join(copy.dir, "node_modules", "inner"))).toBe(path.join(copy.dir, "packages", "inner"));
      // The sandbox gets the checkout's node_modules, through which the links go.
      expect(linkedPackageTargets(copy.dir)).toContain(path.join(repo, "node_modules"));
      await copy.remove();
      expect(existsSync(parent)).toBe(false);
    } finally {
      await copy.remove();
    }
  });
});

describe("the worker's checkout", () => {
  it("is a clone under a 0700 root that shares no file with the source repository", async () => {
    const workspaceRoot = await createWorkspaceRoot("odavl-working-copy-ws-");
    try {
      expect(statSync(workspaceRoot).mode & 0o777).toBe(0o700);
      const co = await checkout({ source: repo, dest: path.join(workspaceRoot, "job", "repo") });
      expect(statSync(path.join(workspaceRoot, "job")).mode & 0o777).toBe(0o700);
      const sourceInodes = new Set<number>();
      const collect = (dir: string, into: (ino: number) => void) => {
        for (const name of readdirSync(dir)) {
          const full = path.join(dir, name);
          const st = lstatSync(full);
          if (st.isDirectory()) collect(full, into);
          else into(st.ino);
        }
      };
      collect(path.join(repo, ".git", "objects"), (ino) => sourceInodes.add(ino));
      const shared: number[] = [];
      collect(path.join(co.dir, ".git", "objects"), (ino) => {
        if (sourceInodes.has(ino)) shared.push(ino);
      });
      expect(shared).toEqual([]);
    } finally {
      rmSync(workspaceRoot, { recursive: true, force: true });
    }
  });
});
