import { rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeTestLine, detectPackageManager, detectTestCommand, detectTests } from "../../src/workspace/index.js";
import { tempDir, writeFiles } from "./fixtures.js";

describe("repository facts", () => {
  let root: string;
  let n = 0;
  const project = (files: Record<string, string>) => {
    const dir = path.join(root, `p${n++}`);
    writeFiles(dir, files);
    return dir;
  };
  const pkg = (value: object) => JSON.stringify(value);

  beforeAll(() => {
    root = tempDir("odavl-facts-test-");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("detects the package manager from packageManager, then lockfiles", () => {
    expect(detectPackageManager(project({ "package.json": pkg({}) }))).toEqual({
      name: "npm",
      lockfile: null,
      version: null,
      source: "default",
    });
    expect(detectPackageManager(project({ "package.json": pkg({}), "package-lock.json": "{}" }))).toMatchObject({
      name: "npm",
      lockfile: "package-lock.json",
      source: "lockfile",
    });
    expect(
      detectPackageManager(project({ "package.json": pkg({}), "pnpm-lock.yaml": "lockfileVersion: '9.0'\n" })),
    ).toMatchObject({
      name: "pnpm",
      lockfile: "pnpm-lock.yaml",
    });
    expect(detectPackageManager(project({ "package.json": pkg({}), "yarn.lock": "" }))).toMatchObject({ name: "yarn" });
    expect(
      detectPackageManager(
        project({ "package.json": pkg({ packageManager: "pnpm@9.12.3+sha512.abc" }), "pnpm-lock.yaml": "" }),
      ),
    ).toEqual({ name: "pnpm", lockfile: "pnpm-lock.yaml", version: "9.12.3", source: "packageManager" });
  });

  it("finds no test command when there is none or only npm's default script", () => {
    expect(detectTestCommand(project({ "package.json": pkg({ scripts: {} }) }))).toBeNull();
    expect(
      detectTestCommand(
        project({ "package.json": pkg({ scripts: { test: 'echo "Error: no test specified" && exit 1' } }) }),
      ),
    ).toBeNull();
    expect(detectTestCommand(project({}))).toBeNull();
  });

  it("runs the test script through npm", () => {
    const command = detectTestCommand(project({ "package.json": pkg({ scripts: { test: "vitest run" } }) }));
    expect(command).toMatchObject({
      command: "npm",
      args: ["test"],
      runsLint: false,
      needsBuild: false,
      script: "vitest run",
      source: "test",
      runner: "vitest",
      relatedLine: "vitest related --run",
    });
  });

  it("says why there is no test command", () => {
    expect(detectTests(project({ "package.json": pkg({ scripts: {} }) }))).toEqual({ reason: "no test script" });
    expect(detectTests(project({ "package.json": pkg({ scripts: { test: "exit 0" } }) }))).toEqual({
      reason: "the test script does nothing (`exit 0`)",
    });
    expect(detectTests(project({ "package.json": pkg({ scripts: { test: "eslint . && tsc --noEmit" } }) }))).toEqual({
      reason: "the test script only runs linters or type checks (`eslint . && tsc --noEmit`)",
    });
    expect(detectTests(project({}))).toEqual({ reason: "no package.json" });
  });

  it("falls back to a unit-test script when the test script is missing, trivial or only lints", () => {
    const lintOnly = project({
      "package.json": pkg({ scripts: { test: "npm run lint", "test:unit": "jest --ci", unit: "mocha" } }),
    });
    expect(detectTests(lintOnly)).toMatchObject({
      command: "npm",
      args: ["run", "test:unit"],
      source: "test:unit",
      runner: "jest",
      relatedLine: "jest --ci --findRelatedTests",
    });
    const missing = project({ "package.json": pkg({ scripts: { testonly: "node --test test/" } }) });
    expect(detectTests(missing)).toMatchObject({ args: ["run", "testonly"], runner: "node", relatedLine: null });
  });

  it("finds the runner through npm run and wrappers", () => {
    const nested = project({
      "package.json": pkg({
        scripts: { test: "npm run test:all", "test:all": "c8 --reporter text mocha 'test/*.js'" },
      }),
    });
    expect(detectTests(nested)).toMatchObject({ runner: "mocha", relatedLine: null });
    const envPrefixed = project({ "package.json": pkg({ scripts: { test: "TZ=UTC vitest run --reporter dot" } }) });
    expect(detectTests(envPrefixed)).toMatchObject({
      runner: "vitest",
      relatedLine: "TZ=UTC vitest related --run --reporter dot",
    });
    // A positional filter, or npm's pre-script, rules out related runs.
    expect(detectTests(project({ "package.json": pkg({ scripts: { test: "vitest run test/unit" } }) }))).toMatchObject({
      relatedLine: null,
    });
    expect(
      detectTests(project({ "package.json": pkg({ scripts: { pretest: "node gen.js", test: "jest" } }) })),
    ).toMatchObject({ relatedLine: null });
  });

  it("uses the runner the repository is set up for when no script gives the tests", () => {
    const dir = project({ "package.json": pkg({ devDependencies: { vitest: "^4.0.0" } }) });
    const command = detectTests(dir);
    expect(command).toMatchObject({ command: "sh", args: ["-c", "vitest run"], source: "runner", runner: "vitest" });
    expect(detectTests(project({ "package.json": pkg({}), "jest.config.js": "" }))).toMatchObject({
      runner: "jest",
      args: ["-c", "jest"],
    });
    expect(detectTests(project({ "package.json": pkg({}), ".mocharc.json": "{}" }))).toMatchObject({ runner: "mocha" });
    expect(detectTests(project({ "package.json": pkg({}), "test/a.test.mjs": "" }))).toMatchObject({
      runner: "node",
      args: ["-c", "node --test"],
    });
  });

  it("keeps a tsc that compiles, drops one that only checks", () => {
    const compiles = project({
      "package.json": pkg({ scripts: { test: "tsc -p . --noEmit false --outDir build && node --test build/" } }),
    });
    expect(detectTests(compiles)).toMatchObject({ command: "npm", runsLint: false });
    const checks = project({ "package.json": pkg({ scripts: { test: "tsc --noEmit && node --test build/" } }) });
    expect(detectTests(checks)).toMatchObject({ command: "sh", args: ["-c", "node --test build/"], runsLint: true });
  });

  it("leaves lint and type-check steps out of a test script", () => {
    const dir = project({
      "package.json": pkg({ scripts: { test: "npm run lint && tsc --noEmit && vitest run --coverage" } }),
    });
    const command = detectTestCommand(dir);
    expect(command?.runsLint).toBe(true);
    expect(command?.command).toBe("sh");
    expect(command?.args).toEqual(["-c", "vitest run --coverage"]);
    expect(command?.env.PATH?.startsWith(path.join(dir, "node_modules", ".bin"))).toBe(true);
  });

  it("says when tests need a build first", () => {
    const needs = project({
      "package.json": pkg({
        name: "libx",
        main: "dist/index.js",
        scripts: { build: "tsc", test: "node --test test/" },
      }),
      "test/a.test.js": 'const lib = require("../dist/index.js");\n',
    });
    expect(detectTestCommand(needs)).toMatchObject({
      needsBuild: true,
      buildCommand: { command: "npm", args: ["run", "build"] },
    });

    const buildsItself = project({
      "package.json": pkg({
        main: "dist/index.js",
        scripts: { build: "tsc", pretest: "npm run build", test: "node --test" },
      }),
      "test/a.test.js": 'require("../dist/index.js");\n',
    });
    expect(detectTestCommand(buildsItself)?.needsBuild).toBe(false);

    const sourceTests = project({
      "package.json": pkg({ main: "dist/index.js", scripts: { build: "tsc", test: "vitest run" } }),
      "test/a.test.ts": 'import { x } from "../src/index.js";\n',
    });
    expect(detectTestCommand(sourceTests)?.needsBuild).toBe(false);
  });

  it("tells the runner and the related-tests line of a test command given as a shell line", () => {
    const dir = project({
      "package.json": pkg({ scripts: { "test:unit": "mocha 'test/**/*.ts'" } }),
    });
    expect(describeTestLine(dir, "npx vitest run")).toEqual({
      runner: "vitest",
      relatedLine: "npx vitest related --run",
    });
    expect(describeTestLine(dir, "TZ=UTC npx jest --ci")).toEqual({
      runner: "jest",
      relatedLine: "TZ=UTC npx jest --ci --findRelatedTests",
    });
    // Through the package.json script it runs; mocha cannot tell related tests.
    expect(describeTestLine(dir, "npm run test:unit")).toEqual({ runner: "mocha", relatedLine: null });
    // Two steps, or a positional filter: the whole line decides, never a related run.
    expect(describeTestLine(dir, "npm run build && npx vitest run")).toEqual({ runner: "vitest", relatedLine: null });
    expect(describeTestLine(dir, "npx vitest run test/unit")).toEqual({ runner: "vitest", relatedLine: null });
    expect(describeTestLine(dir, "./run-tests.sh")).toEqual({ runner: null, relatedLine: null });
    // Two commands on two lines (or after `;`): the second must still run, so no related line.
    expect(describeTestLine(dir, "vitest run --passWithNoTests\ntsc")).toEqual({ runner: "vitest", relatedLine: null });
    expect(describeTestLine(dir, "vitest run; node check.js")).toMatchObject({ relatedLine: null });
  });
});
