import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, detectBubblewrap } from "../../src/sandbox/index.js";
import {
  applyCandidateEdits,
  createCandidateCopy,
  removeCandidateCopy,
  resetCandidateCopy,
  UnsafePathError,
} from "../../src/workspace/index.js";
import { tempDir, writeFiles } from "./fixtures.js";

describe("createCandidateCopy", () => {
  let root: string;
  let base: string;
  let outside: string;

  beforeAll(() => {
    root = tempDir("odavl-candidate-test-");
    base = path.join(root, "base");
    outside = path.join(root, "outside");
    writeFiles(outside, { "secret.txt": "outside" });
    const files: Record<string, string> = {
      "package.json": "{}",
      "src/a.ts": "export const a = 1;\n",
      "src/b.ts": "export const b = 2;\n",
      ".git/HEAD": "ref: refs/heads/main\n",
      "packages/p/package.json": "{}",
      "packages/p/node_modules/q/index.js": "module.exports = 'q';\n",
      "node_modules/dep/index.js": "module.exports = 'dep';\n",
      "node_modules/.bin/tool": "#!/bin/sh\n",
      "node_modules/.cache/old/entry": "stale cache of the base\n",
    };
    // A node_modules large enough that copying it would show.
    for (let i = 0; i < 3000; i++) files[`node_modules/pkg${i % 30}/f${i}.js`] = `module.exports = ${i};\n`;
    writeFiles(base, files);
    symlinkSync(outside, path.join(base, "link-out"));
    symlinkSync("src", path.join(base, "link-in"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("copies the checkout without node_modules and .git, links node_modules, applies the edits", async () => {
    const copy = await createCandidateCopy(
      base,
      [
        { path: "src/a.ts", after: "export const a = 42;\n" },
        { path: "src/new/c.ts", after: "export const c = 3;\n" },
      ],
      path.join(root, "candidates"),
    );
    expect(readFileSync(path.join(copy.dir, "src/a.ts"), "utf8")).toBe("export const a = 42;\n");
    expect(readFileSync(path.join(copy.dir, "src/new/c.ts"), "utf8")).toBe("export const c = 3;\n");
    expect(readFileSync(path.join(copy.dir, "src/b.ts"), "utf8")).toBe("export const b = 2;\n");
    expect(readFileSync(path.join(base, "src/a.ts"), "utf8")).toBe("export const a = 1;\n");
    expect(existsSync(path.join(copy.dir, ".git"))).toBe(false);
    // node_modules: the copy's own directory of links into the base; the base's tool caches are left out.
    expect(lstatSync(path.join(copy.dir, "node_modules")).isDirectory()).toBe(true);
    expect(readlinkSync(path.join(copy.dir, "node_modules", "dep"))).toBe(path.join(base, "node_modules", "dep"));
    expect(readlinkSync(path.join(copy.dir, "node_modules", ".bin"))).toBe(path.join(base, "node_modules", ".bin"));
    expect(existsSync(path.join(copy.dir, "node_modules", ".cache"))).toBe(false);
    expect(readdirSync(path.join(copy.dir, "node_modules")).length).toBe(32);
    expect(readlinkSync(path.join(copy.dir, "packages/p/node_modules/q"))).toBe(
      path.join(base, "packages/p/node_modules/q"),
    );
    expect(copy.readOnlyPaths.sort()).toEqual(
      [path.join(base, "node_modules"), path.join(base, "packages/p/node_modules")].sort(),
    );
    // Symlinks are copied as they are, relative ones staying relative.
    expect(readlinkSync(path.join(copy.dir, "link-in"))).toBe("src");
    expect(copy.durationMs).toBeLessThan(5000);
    await removeCandidateCopy(copy);
    expect(existsSync(copy.dir)).toBe(false);
    expect(existsSync(path.join(base, "node_modules", "dep", "index.js"))).toBe(true);
  });

  it("resets a used copy to what a fresh copy holds, so the next candidate can reuse it", async () => {
    const fresh = await createCandidateCopy(base, [], path.join(root, "candidates"));
    const copy = await createCandidateCopy(
      base,
      [{ path: "src/a.ts", after: "export const a = 42;\n" }],
      path.join(root, "candidates"),
    );
    // What a candidate's edits and a test run leave behind: new files and directories, a rewritten file of the
    // same size, a removed file, a replaced link, a .git, tool caches in the node_modules links directory.
    writeFiles(copy.dir, {
      "dist/out.js": "built\n",
      "src/extra.ts": "export {};\n",
      "src/b.ts": "export const b = 9;\n",
      ".git/HEAD": "x\n",
      "node_modules/.vite/deps/cache.json": "{}",
      "packages/p/node_modules/.cache/x": "y",
    });
    unlinkSync(path.join(copy.dir, "package.json"));
    unlinkSync(path.join(copy.dir, "link-in"));
    symlinkSync("dist", path.join(copy.dir, "link-in"));
    mkdirSync(path.join(copy.dir, "empty-dir"));
    writeFileSync(path.join(copy.dir, "node_modules", "planted.js"), "poison");

    await resetCandidateCopy(copy, base);
    expect(tree(copy.dir)).toEqual(tree(fresh.dir));
    expect(readFileSync(path.join(copy.dir, "src/a.ts"), "utf8")).toBe("export const a = 1;\n");
    expect(readFileSync(path.join(copy.dir, "src/b.ts"), "utf8")).toBe("export const b = 2;\n");

    // The next candidate's edits go in as in a fresh copy, through the same path checks.
    await applyCandidateEdits(copy.dir, [{ path: "src/b.ts", after: "export const b = 3;\n" }]);
    expect(readFileSync(path.join(copy.dir, "src/b.ts"), "utf8")).toBe("export const b = 3;\n");
    await expect(applyCandidateEdits(copy.dir, [{ path: "link-out/secret.txt", after: "x" }])).rejects.toThrow(
      UnsafePathError,
    );
    expect(readFileSync(path.join(outside, "secret.txt"), "utf8")).toBe("outside");
    await removeCandidateCopy(copy);
    await removeCandidateCopy(fresh);
  });

  it("writes through a symlink that stays inside the copy", async () => {
    const copy = await createCandidateCopy(
      base,
      [{ path: "link-in/b.ts", after: "export const b = 7;\n" }],
      path.join(root, "candidates"),
    );
    expect(readFileSync(path.join(copy.dir, "src/b.ts"), "utf8")).toBe("export const b = 7;\n");
    await removeCandidateCopy(copy);
  });

  it.each([
    ["/etc/passwd", /absolute/],
    ["../escape.ts", /'\.\.'/],
    ["src/../../escape.ts", /'\.\.'/],
    ["link-out/secret.txt", /symlink out of the repository/],
    ["node_modules/dep/index.js", /node_modules/],
    [".git/config", /\.git/],
    ["", /empty/],
  ])("rejects the edit path %j with a typed error naming it", async (bad, reason) => {
    const error = await createCandidateCopy(base, [{ path: bad, after: "x" }], path.join(root, "candidates")).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnsafePathError);
    expect((error as UnsafePathError).path).toBe(bad);
    expect((error as UnsafePathError).message).toMatch(reason);
    expect(readFileSync(path.join(outside, "secret.txt"), "utf8")).toBe("outside");
  });

  // Skipped only where bubblewrap is missing; CI installs it.
  it.skipIf(!detectBubblewrap().available)("runs in the sandbox with the base's node_modules read-only", async () => {
    const copy = await createCandidateCopy(
      base,
      [{ path: "src/a.ts", after: "export const a = 5;\n" }],
      path.join(root, "candidates"),
    );
    const script = `
      const fs = require("fs");
      console.log(require("dep"));
      try { fs.writeFileSync("node_modules/dep/index.js", "x"); console.log("wrote"); } catch (e) { console.log(e.code); }
      fs.mkdirSync("node_modules/.vite/deps", { recursive: true });
      fs.writeFileSync("node_modules/.vite/deps/cache.json", "{}");
      console.log("cache ok");
    `;
    const result = await createSandbox().run({
      cwd: copy.dir,
      command: "node",
      args: ["-e", script],
      readOnlyPaths: copy.readOnlyPaths,
    });
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("dep\nEROFS\ncache ok\n");
    expect(readFileSync(path.join(base, "node_modules/dep/index.js"), "utf8")).toBe("module.exports = 'dep';\n");
    expect(existsSync(path.join(base, "node_modules/.vite"))).toBe(false);
    await removeCandidateCopy(copy);
  });
});

/** Every entry under `dir` with its content (files) or target (links); the copy's own directory name left out. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (abs: string, rel: string) => {
    for (const name of readdirSync(abs).sort()) {
      const full = path.join(abs, name);
      const key = rel ? `${rel}/${name}` : name;
      const stat = lstatSync(full);
      if (stat.isSymbolicLink()) out[key] = `-> ${readlinkSync(full)}`;
      else if (stat.isDirectory()) {
        out[key] = "dir";
        visit(full, key);
      } else out[key] = readFileSync(full, "utf8");
    }
  };
  visit(dir, "");
  return out;
}
