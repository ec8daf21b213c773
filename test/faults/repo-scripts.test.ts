/**
 * Fault suite, a repository's executable configuration: lifecycle scripts (preinstall, install, postinstall,
 * prepare) of the repository and of a dependency, an `eslint.config.js` (and a legacy `.eslintrc.js`), a
 * TypeScript language-service plugin, and a test setup file. The install runs with scripts ignored (none ran), our
 * lint and type analysis never execute the repository's configuration in-process, and the setup file runs only in
 * the sandbox: none leaves a mark outside it (sentinel files, the worker's environment, the network).
 */
import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectBubblewrap } from "../../src/sandbox/index.js";
import { checkout, createWorkspaceRoot, installDependencies } from "../../src/workspace/index.js";
import {
  createSentinel,
  cycleRequest,
  engineDeps,
  removeTempDirs,
  runCycle,
  smallProject,
  tempDir,
  writeRepo,
} from "../helpers/engine.js";

// Skipped only where bubblewrap is missing (apt-get install bubblewrap): the test setup file runs in it. CI has it.
const hasBwrap = detectBubblewrap().available;

const CANARY = "ODAVL_FAULT_SCRIPTS_CANARY";

function portOf(url: string | undefined): number | null {
  const port = url ? new URL(url).port : "";
  return port ? Number(port) : null;
}

/** A line of JavaScript (CommonJS) that leaves every mark it can: files outside, the environment. */
function markJs(sentinelDir: string, label: string): string {
  return [
    `try { require("fs").writeFileSync(${JSON.stringify(path.join(sentinelDir, label))}, "ran"); } catch {}`,
    `try { require("fs").writeFileSync(require("path").join(process.cwd(), ${JSON.stringify(label.toUpperCase())}), "ran"); } catch {}`,
    `process.env[${JSON.stringify(`ODAVL_PWNED_${label.replace(/\W/g, "_").toUpperCase()}`)}] = "1";`,
  ].join("\n");
}

function markScript(sentinelDir: string, label: string): string {
  return `node -e ${JSON.stringify(markJs(sentinelDir, label).replace(/\n/g, " "))}`;
}

describe.skipIf(!hasBwrap)("a repository's executable configuration never runs outside the sandbox", () => {
  let sentinel: ReturnType<typeof createSentinel>;
  let source: string;
  let workspaceRoot: string;
  let dir: string;
  const homeMarker = path.join(os.homedir(), `odavl-fault-setup-${process.pid}`);

  beforeAll(() => {
    sentinel = createSentinel();
    process.env[CANARY] = "canary-value-of-the-worker";
    const root = tempDir();
    source = path.join(root, "hostile");
    const ports = [portOf(process.env.DATABASE_URL), portOf(process.env.REDIS_URL)].filter((p) => p !== null);
    const lifecycle = Object.fromEntries(
      ["preinstall", "install", "postinstall", "prepare"].map((s) => [s, markScript(sentinel.dir, s)]),
    );
    const pkg = JSON.parse(smallProject("")["package.json"] as string) as Record<string, unknown>;
    writeRepo(source, {
      ...smallProject(""),
      "package.json": JSON.stringify({
        ...pkg,
        scripts: { ...lifecycle, test: "node --import ./test/setup.mjs test/run.mjs" },
        dependencies: { "hostile-dep": "file:./deps/hostile-dep" },
      }),
      "deps/hostile-dep/package.json": JSON.stringify({
        name: "hostile-dep",
        version: "1.0.0",
        main: "index.js",
        scripts: { postinstall: markScript(sentinel.dir, "dep-postinstall") },
      }),
      "deps/hostile-dep/index.js": "module.exports = 1;\n",
      "eslint.config.js": `${markJs(sentinel.dir, "eslint-config")}\nmodule.exports = [];\n`,
      ".eslintrc.js": `${markJs(sentinel.dir, "eslintrc")}\nmodule.exports = {};\n`,
      "tsconfig.json": JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, skipLibCheck: true, plugins: [{ name: "hostile-ts-plugin" }] },
        include: ["src"],
      }),
      "node_modules/hostile-ts-plugin/package.json": JSON.stringify({ name: "hostile-ts-plugin", main: "index.js" }),
      "node_modules/hostile-ts-plugin/index.js": `${markJs(sentinel.dir, "ts-plugin")}\nmodule.exports = () => ({ create: (i) => i.languageService });\n`,
      // The setup file tries everything, then tells the test what got through: the tests pass only when the setup
      // ran and nothing did.
      "test/setup.mjs": `import fs from "node:fs";
import net from "node:net";
const escaped = [];
const connect = (port) => new Promise((resolve) => {
  const s = net.connect(port, "127.0.0.1");
  s.setTimeout(3000, () => { s.destroy(); resolve(false); });
  s.on("connect", () => { s.destroy(); resolve(true); });
  s.on("error", () => resolve(false));
});
for (const target of ${JSON.stringify([path.join(sentinel.dir, "setup"), homeMarker])}) {
  try { fs.writeFileSync(target, "ran"); escaped.push("wrote " + target); } catch {}
}
for (const port of ${JSON.stringify(ports)}) if (await connect(port)) escaped.push("connected to " + port);
if (process.env.${CANARY} !== undefined) escaped.push("saw the worker's environment");
process.env.ODAVL_PWNED_SETUP = "1";
globalThis.__setup = { escaped };
`,
      "test/run.mjs": `if (!globalThis.__setup) { console.error("the setup file did not run"); process.exit(2); }
if (globalThis.__setup.escaped.length > 0) { console.error(globalThis.__setup.escaped.join("\\n")); process.exit(1); }
console.log("setup ran, nothing escaped");
`,
    });
  });

  afterAll(() => {
    delete process.env[CANARY];
    removeTempDirs();
    if (workspaceRoot) rmSync(workspaceRoot, { recursive: true, force: true });
    rmSync(homeMarker, { force: true });
  });

  it("installs with every lifecycle script ignored, then the cycle lints, type-checks and tests in the sandbox", async () => {
    const before = sentinel.snapshot();
    const envBefore = { ...process.env };
    workspaceRoot = await createWorkspaceRoot("odavl-fault-scripts-");
    dir = (await checkout({ source, dest: path.join(workspaceRoot, "ws"), timeoutMs: 60_000 })).dir;

    const installed = await installDependencies(dir, {
      timeoutMs: 180_000,
      cacheDir: path.join(workspaceRoot, "cache"),
    });
    expect(installed.skipped).toBeNull();
    expect(existsSync(path.join(dir, "node_modules/hostile-dep/index.js"))).toBe(true);

    const summary = await runCycle(
      cycleRequest(dir, { recipeIds: ["eslint/prefer-const", "biome/use-const", "ts/remove-unused-imports"] }),
      engineDeps(null, undefined, { testTimeoutMs: 180_000 }),
    );
    expect(summary.status, summary.error ?? "").toBe("completed");
    // The lint ran (with our configuration): the repository's config, which disables everything, was not used.
    expect(summary.results.map((r) => r.candidate.recipe.id)).toContain("eslint/prefer-const");
    // The setup file ran in the sandbox and found every way out closed.
    expect(summary.facts?.testsPassing).toBe("pass");
    expect(summary.results.find((r) => r.candidate.recipe.id === "eslint/prefer-const")?.outcome).toMatchObject({
      tests: "pass",
    });

    // No mark anywhere: the sentinel, the checkout, the worker's home and environment.
    expect(sentinel.snapshot()).toEqual(before);
    const marks = readdirSync(dir).filter((f) => /^[A-Z_-]+$/.test(f) && f !== "README");
    expect(marks).toEqual([]);
    expect(existsSync(homeMarker)).toBe(false);
    expect(Object.keys(process.env).filter((k) => k.startsWith("ODAVL_PWNED"))).toEqual([]);
    expect(process.env).toEqual(envBefore);
  });

  it("the marks are real: the same scripts, run on the host, leave them", async () => {
    // Evidence that the checks above can fail: the lifecycle script, executed as npm would, writes its marker.
    const scratch = tempDir();
    const { execFileSync } = await import("node:child_process");
    const script = markJs(scratch, "control");
    execFileSync(process.execPath, ["-e", script], { cwd: scratch });
    expect(existsSync(path.join(scratch, "control"))).toBe(true);
    expect(existsSync(path.join(scratch, "CONTROL"))).toBe(true);
    writeFileSync(path.join(scratch, "done"), "");
  });
});
