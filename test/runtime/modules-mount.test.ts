/**
 * Tests that check where a resolved package really lives (liquidjs looks templates up with require.resolve and
 * accepts only files inside its root): in a candidate copy the packages must resolve inside the copy, so the base's
 * node_modules is shown over the copy's links in the sandbox.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createSandbox, SandboxSetupError } from "../../src/sandbox/index.js";
import { createWorkingCopy } from "../../src/workspace/index.js";
import {
  cycleRequest,
  engineDeps,
  removeTempDirs,
  runCycle,
  smallProject,
  tempDir,
  writeRepo,
} from "../helpers/engine.js";

afterAll(() => removeTempDirs());

const WHERE_TEST = `const { test } = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");

test("the dependency resolves inside the checkout", () => {
  const real = fs.realpathSync(require.resolve("dep", { paths: ["."] }));
  assert.ok(real.startsWith(fs.realpathSync(process.cwd()) + path.sep), real);
  assert.equal(require("dep"), "dep");
});
`;

const LOAD_TEST = `const { test } = require("node:test");
const assert = require("node:assert");

test("the dependency loads", () => assert.equal(require("dep"), "dep"));
`;

describe("node_modules in a candidate copy", () => {
  it("resolves to a real path inside the copy, at baseline and for a candidate", async () => {
    const dir = join(tempDir(), "where");
    writeRepo(
      dir,
      smallProject("node --test test/", {
        "test/where.test.cjs": WHERE_TEST,
        "node_modules/dep/package.json": JSON.stringify({ name: "dep", version: "1.0.0", main: "index.js" }),
        "node_modules/dep/index.js": 'module.exports = "dep";\n',
      }),
    );
    const summary = await runCycle(cycleRequest(dir, { recipeIds: ["eslint/prefer-const"] }), engineDeps(null));
    expect(summary.facts?.testsPassing).toBe("pass");
    expect(summary.results[0]?.outcome).toMatchObject({ success: true, tests: "pass", testsRun: "full" });
  }, 300_000);

  it("resolves inside the copy also when the cycle works on a working copy of the checkout (odavl cycle)", async () => {
    const dir = join(tempDir(), "where-cli");
    writeRepo(
      dir,
      smallProject("node --test test/", {
        "test/where.test.cjs": WHERE_TEST,
        "node_modules/dep/package.json": JSON.stringify({ name: "dep", version: "1.0.0", main: "index.js" }),
        "node_modules/dep/index.js": 'module.exports = "dep";\n',
      }),
    );
    // The working copy's node_modules is a directory of links to the checkout's; the candidate copies link to
    // those links. What is shown over a copy's links is the installation at the end of the chain.
    const copy = await createWorkingCopy(dir, tempDir());
    try {
      const summary = await runCycle(cycleRequest(copy.dir, { recipeIds: ["eslint/prefer-const"] }), engineDeps(null));
      expect(summary.facts?.testsPassing).toBe("pass");
      expect(summary.results[0]?.outcome).toMatchObject({ success: true, tests: "pass", testsRun: "full" });
    } finally {
      await copy.remove();
    }
  }, 300_000);

  it("a tool that keeps its cache in node_modules still runs: the baseline runs again with the copy's own", async () => {
    const dir = join(tempDir(), "cache-in-modules");
    // As rollup-plugin-typescript2 keeps its cache in node_modules/.rpt2 (jeffijoe/awilix's build).
    const cache = `node -e "require('fs').mkdirSync('node_modules/.rpt2/cache', { recursive: true })"`;
    writeRepo(
      dir,
      smallProject(`${cache} && node --test test/`, {
        "test/load.test.cjs": LOAD_TEST,
        "node_modules/dep/package.json": JSON.stringify({ name: "dep", version: "1.0.0", main: "index.js" }),
        "node_modules/dep/index.js": 'module.exports = "dep";\n',
      }),
    );
    const summary = await runCycle(cycleRequest(dir, { recipeIds: ["eslint/prefer-const"] }), engineDeps(null));
    expect(summary.facts?.testsPassing).toBe("pass");
    expect(summary.results[0]?.outcome).toMatchObject({ success: true, tests: "pass", testsRun: "full" });
  }, 300_000);

  it("refuses a mount whose destination is not a directory inside the workspace", async () => {
    const root = tempDir();
    const cwd = join(root, "work");
    const other = join(root, "other");
    mkdirSync(cwd);
    mkdirSync(other);
    const run = (source: string, dest: string) =>
      createSandbox().run({ cwd, command: "true", args: [], mounts: [{ source, dest }] });
    await expect(run(other, other)).rejects.toBeInstanceOf(SandboxSetupError);
    await expect(run(root, cwd)).rejects.toThrow(/may not be \/ or contain the workspace|inside/);
  });
});
