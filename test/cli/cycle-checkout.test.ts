import { randomUUID } from "node:crypto";
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildDemoRepo } from "../../src/cli/demo-repo.js";
import { detectBubblewrap } from "../../src/sandbox/index.js";
import { odavl } from "../helpers/cli.js";
import { removeTempDirs, snapshotTree, tempDir } from "../helpers/engine.js";

// The sandbox is what opens a workspace up for another uid; without bubblewrap the tests would not run there.
const hasBwrap = detectBubblewrap().available;

afterAll(() => removeTempDirs());

/** A real git repository with a hook, a real installed package, files of several modes and an uncommitted edit. */
function userCheckout(): string {
  const dir = join(tempDir("odavl-user-"), "repo");
  buildDemoRepo(dir);
  writeFileSync(join(dir, ".git", "hooks", "pre-commit"), "#!/bin/sh\nexit 0\n");
  chmodSync(join(dir, ".git", "hooks", "pre-commit"), 0o755);
  chmodSync(join(dir, ".git", "config"), 0o600);
  const pkg = join(dir, "node_modules", "left-pad");
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "left-pad", version: "1.3.0", main: "index.js" }));
  writeFileSync(join(pkg, "index.js"), "module.exports = (s) => s;\n");
  chmodSync(join(dir, "src"), 0o750);
  chmodSync(join(dir, "package.json"), 0o640);
  // Working-tree state the cycle must see and must leave as it was.
  writeFileSync(join(dir, "src", "scratch.ts"), "export let scratch = 1;\n");
  mark(dir);
  return dir;
}

/** Copies of this checkout left in the temp dir (other cycles may run beside this test: they are told apart). */
function leftCopies(repo: string): string[] {
  const marker = readFileSync(join(repo, "marker.txt"), "utf8");
  const out: string[] = [];
  for (const name of readdirSync(os.tmpdir()).filter((n) => n.startsWith("odavl-cycle-"))) {
    let inside: string[] = [];
    try {
      inside = readdirSync(join(os.tmpdir(), name));
    } catch {
      continue;
    }
    for (const copy of inside) {
      try {
        if (readFileSync(join(os.tmpdir(), name, copy, "marker.txt"), "utf8") === marker) out.push(name);
      } catch {
        // another cycle's copy, or one being removed
      }
    }
  }
  return out;
}

function mark(repo: string): void {
  writeFileSync(join(repo, "marker.txt"), randomUUID());
}

describe.skipIf(!hasBwrap)("odavl cycle leaves the user's checkout as it was", () => {
  it("keeps every path's content, mode and mtime, .git and its hooks included, with tests run in the sandbox", async () => {
    const repo = userCheckout();
    const before = snapshotTree(repo);
    const r = await odavl(
      { ODAVL_DATA_DIR: tempDir(), ML_ENABLE: "false" },
      "cycle",
      repo,
      "--json",
      "--no-store",
      "--allow-dirty",
      "--recipes",
      "eslint/prefer-const",
    );
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as {
      cycle: { status: string; sha: string };
      facts: { sourceFiles: number; testsPassing: string };
      candidates: { outcome: { tests: string } }[];
    };
    expect(j.cycle.status).toBe("completed");
    // The uncommitted file was part of the cycle: the copy holds the working tree, not the commit.
    expect(j.facts.sourceFiles).toBeGreaterThan(0);
    // The tests ran in the sandbox (on a workspace opened up for the run's uid).
    expect(j.facts.testsPassing).toBe("pass");
    expect(j.candidates.length).toBeGreaterThan(0);

    const after = snapshotTree(repo);
    const changed = Object.keys({ ...before, ...after }).filter(
      (p) => JSON.stringify(before[p]) !== JSON.stringify(after[p]),
    );
    expect(changed).toEqual([]);
    expect(after["./.git/hooks/pre-commit"]?.mode).toBe(before["./.git/hooks/pre-commit"]?.mode);
    // The private copy is gone.
    expect(leftCopies(repo)).toEqual([]);
  }, 300_000);

  it("removes its copy when the cycle fails", async () => {
    const dir = join(tempDir("odavl-user-"), "repo");
    buildDemoRepo(dir);
    // A repository with no TypeScript source at all fails in Observe.
    for (const sub of ["src", "test"]) rmSync(join(dir, sub), { recursive: true, force: true });
    mark(dir);
    const before = snapshotTree(dir);
    const r = await odavl(
      { ODAVL_DATA_DIR: tempDir() },
      "cycle",
      dir,
      "--json",
      "--no-store",
      "--no-tests",
      "--allow-dirty",
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("no TypeScript source files found");
    expect(leftCopies(dir)).toEqual([]);
    expect(snapshotTree(dir)).toEqual(before);
  }, 120_000);
});
