/**
 * Real git repositories that test themselves with a real runner: vitest, jest with ts-jest, mocha with tsx, and
 * node --test with tsx. The runner packages are not installed: node_modules links to this project's copies (each
 * runner's whole dependency closure, so the links resolve inside the sandbox, which exposes linked targets
 * read-only).
 *
 * Every repository has the same planted problem: `hitsOf` returns `counter && counter.hits`, and a test checks that
 * a zero "counter" gives 0 back, which biome/use-optional-chain's `counter?.hits` breaks. `label` has the same
 * pattern and no test calls it, so an all-scope candidate changes one line the tests run and one they do not.
 * `src/unused.ts` has a prefer-const finding and no test imports it.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { commitAll, linkTypeScript } from "../../src/cli/demo-repo.js";

export type RunnerKind = "vitest" | "jest" | "mocha" | "node-test";

const PROJECT_MODULES = join(import.meta.dirname, "../../node_modules");

const STATS = `export interface Counter {
  hits: number;
  name: string;
}

/** JavaScript callers pass 0 for "no counter" and expect 0 back. */
export function hitsOf(counter: Counter | undefined): number | undefined {
  return counter && counter.hits;
}

export function label(counter: Counter | undefined): string {
  const name = counter && counter.name;
  return name ? name : "anonymous";
}
`;

const UNUSED = `export function answer(): number {
  let value = 42;
  return value;
}
`;

/** The test body for each runner: two tests of hitsOf, none of label. */
const TESTS: Record<RunnerKind, string> = {
  vitest: `import { expect, test } from "vitest";
import { type Counter, hitsOf } from "../src/stats.js";

test("hits of a counter", () => expect(hitsOf({ hits: 3, name: "a" })).toBe(3));
test("a zero counter gives 0, not undefined", () => expect(hitsOf(0 as unknown as Counter)).toBe(0));
`,
  jest: `import { expect, test } from "@jest/globals";
import { type Counter, hitsOf } from "../src/stats";

test("hits of a counter", () => expect(hitsOf({ hits: 3, name: "a" })).toBe(3));
test("a zero counter gives 0, not undefined", () => expect(hitsOf(0 as unknown as Counter)).toBe(0));
`,
  mocha: `import assert from "node:assert/strict";
import { type Counter, hitsOf } from "../src/stats";

it("hits of a counter", () => assert.equal(hitsOf({ hits: 3, name: "a" }), 3));
it("a zero counter gives 0, not undefined", () => assert.equal(hitsOf(0 as unknown as Counter), 0));
`,
  "node-test": `import { test } from "node:test";
import assert from "node:assert/strict";
import { type Counter, hitsOf } from "../src/stats.ts";

test("hits of a counter", () => assert.equal(hitsOf({ hits: 3, name: "a" }), 3));
test("a zero counter gives 0, not undefined", () => assert.equal(hitsOf(0 as unknown as Counter), 0));
`,
};

interface RunnerSetup {
  packages: string[];
  bins: string[];
  packageJson: Record<string, unknown>;
  files: Record<string, string>;
  compilerOptions: Record<string, unknown>;
}

const ESM = { module: "NodeNext", moduleResolution: "NodeNext" };
const CJS = { module: "CommonJS", moduleResolution: "Node10", esModuleInterop: true };

const SETUPS: Record<RunnerKind, RunnerSetup> = {
  vitest: {
    packages: ["vitest"],
    bins: ["vitest"],
    packageJson: { type: "module", scripts: { test: "vitest run" }, devDependencies: { vitest: "^4.0.0" } },
    files: {},
    compilerOptions: ESM,
  },
  jest: {
    packages: ["jest", "ts-jest", "@jest/globals"],
    bins: ["jest"],
    packageJson: {
      scripts: { test: "jest --ci" },
      devDependencies: { jest: "^30.0.0", "ts-jest": "^29.0.0" },
    },
    files: {
      // diagnostics off: the type check is judged separately, the tests only run.
      "jest.config.cjs": `module.exports = {\n  testEnvironment: "node",\n  transform: { "^.+\\\\.ts$": ["ts-jest", { diagnostics: false }] },\n};\n`,
    },
    compilerOptions: CJS,
  },
  mocha: {
    packages: ["mocha", "tsx"],
    bins: ["mocha"],
    packageJson: {
      scripts: { test: "mocha --require tsx/cjs 'test/**/*.test.ts'" },
      devDependencies: { mocha: "^11.0.0", tsx: "^4.0.0" },
    },
    files: {},
    compilerOptions: CJS,
  },
  "node-test": {
    packages: ["tsx"],
    bins: [],
    packageJson: {
      type: "module",
      scripts: { test: "node --import tsx --test test/stats.test.ts" },
      devDependencies: { tsx: "^4.0.0" },
    },
    files: {},
    compilerOptions: { ...ESM, allowImportingTsExtensions: true },
  },
};

/** Writes and commits the repository for `kind` in `dir`; returns the commit's sha. */
export function buildRunnerRepo(dir: string, kind: RunnerKind): string {
  const setup = SETUPS[kind];
  const files: Record<string, string> = {
    "package.json": `${JSON.stringify({ name: `fixture-${kind}`, version: "1.0.0", private: true, ...setup.packageJson }, null, 2)}\n`,
    "tsconfig.json": `${JSON.stringify(
      {
        compilerOptions: { target: "ES2022", strict: true, noEmit: true, skipLibCheck: true, ...setup.compilerOptions },
        include: ["src"],
      },
      null,
      2,
    )}\n`,
    "src/stats.ts": STATS,
    "src/unused.ts": UNUSED,
    "test/stats.test.ts": TESTS[kind],
    ".gitignore": "node_modules/\n",
    ...setup.files,
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  linkTypeScript(dir);
  linkPackages(dir, setup.packages, setup.bins);
  return commitAll(dir, `${kind} fixture`).sha;
}

/**
 * Links `names` and every package they depend on (dependencies, optional and peer dependencies found here) from
 * this project's node_modules into `dir`'s, plus the named bins.
 */
function linkPackages(dir: string, names: readonly string[], bins: readonly string[]): void {
  const modules = join(dir, "node_modules");
  const topLevel = new Set<string>();
  const seen = new Set<string>();
  const queue = names.map((name) => ({ name, from: PROJECT_MODULES }));
  while (queue.length > 0) {
    const { name, from } = queue.shift() as { name: string; from: string };
    const pkgDir = resolvePackage(name, from);
    if (!pkgDir || seen.has(pkgDir)) continue;
    seen.add(pkgDir);
    if (dirname(pkgDir) === PROJECT_MODULES || dirname(dirname(pkgDir)) === PROJECT_MODULES) topLevel.add(name);
    const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as Record<string, unknown>;
    for (const field of ["dependencies", "optionalDependencies", "peerDependencies"]) {
      for (const dep of Object.keys((pkg[field] as Record<string, string> | undefined) ?? {})) {
        queue.push({ name: dep, from: pkgDir });
      }
    }
  }
  for (const name of topLevel) {
    const link = join(modules, name);
    if (existsSync(link)) continue;
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(realpathSync(join(PROJECT_MODULES, name)), link, "dir");
  }
  mkdirSync(join(modules, ".bin"), { recursive: true });
  for (const bin of bins) {
    const target = realpathSync(join(PROJECT_MODULES, ".bin", bin));
    const owner = relative(realpathSync(PROJECT_MODULES), target).split("/");
    const pkgName = owner[0]?.startsWith("@") ? `${owner[0]}/${owner[1]}` : (owner[0] as string);
    symlinkSync(
      join("..", pkgName, relative(realpathSync(join(PROJECT_MODULES, pkgName)), target)),
      join(modules, ".bin", bin),
    );
  }
}

/** Where Node would find `name` from inside `from`: its own node_modules, then each enclosing one, up to ours. */
function resolvePackage(name: string, from: string): string | null {
  let current = from;
  for (;;) {
    const modules = basename(current) === "node_modules" ? current : join(current, "node_modules");
    if (existsSync(join(modules, name, "package.json"))) return join(modules, name);
    if (current === PROJECT_MODULES || current === dirname(current)) return null;
    current = dirname(current);
  }
}
