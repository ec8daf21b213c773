/**
 * The cycle's tests with the repository's own package manager: a pnpm repository whose test script calls `pnpm`
 * gets a baseline that passes in the sandbox (offline, from the toolchain the test session prepared), and a fix
 * verified against those tests. Real pnpm install on the host, real sandbox, real cycle.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCycle } from "../../src/engine/cycle.js";
import { detectBubblewrap } from "../../src/sandbox/index.js";
import { installDependencies } from "../../src/workspace/install.js";
import { cycleRequest, engineDeps, removeTempDirs, tempDir, writeRepo } from "../helpers/engine.js";

afterAll(() => removeTempDirs());

// Skipped only where bubblewrap is missing (apt-get install bubblewrap); CI installs it, so this always runs there.
const hasBwrap = detectBubblewrap().available;

describe.runIf(hasBwrap)("tests through the repository's package manager", () => {
  it("a pnpm repository's `pnpm run unit` passes at baseline and verifies a fix", async () => {
    const dir = tempDir("odavl-pnpm-cycle-");
    const cache = mkdtempSync(path.join(os.tmpdir(), "odavl-pnpm-cache-"));
    try {
      writeRepo(dir, {
        "package.json": `${JSON.stringify({
          name: "pnpm-fixture",
          version: "1.0.0",
          private: true,
          packageManager: "pnpm@9.15.0",
          scripts: { test: "pnpm run unit", unit: "node --test test/" },
          dependencies: { "is-number": "7.0.0" },
        })}\n`,
        "tsconfig.json": `${JSON.stringify({ compilerOptions: { strict: true, noEmit: true, skipLibCheck: true, target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext" }, include: ["src"] })}\n`,
        "src/a.ts": "let a = 1;\nexport { a };\n",
        "test/a.test.cjs":
          'const test = require("node:test");\nconst assert = require("node:assert");\nconst isNumber = require("is-number");\ntest("dependency", () => assert.ok(isNumber(1)));\n',
      });
      const install = await installDependencies(dir, { timeoutMs: 180_000, cacheDir: cache });
      expect(install.packageManager.name).toBe("pnpm");
      const summary = await runCycle(cycleRequest(dir, { recipeIds: ["biome/use-const"] }), engineDeps(null));
      expect(summary.status).toBe("completed");
      // The reason the baseline's tests did not count, when they did not, is the message.
      const why = summary.results.map((r) => r.outcome?.testsReason).find(Boolean) ?? summary.error ?? "";
      expect(summary.facts?.testsPassing, why).toBe("pass");
      const result = summary.results.find((r) => r.candidate.recipe.id === "biome/use-const");
      expect(result?.outcome).toMatchObject({ success: true, tests: "pass" });
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
