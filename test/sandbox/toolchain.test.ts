/**
 * The repository's own package manager inside the sandbox: pnpm and yarn 4 repositories whose `test` script calls
 * `pnpm`/`yarn` run their real tests (a real dependency, installed on the host beforehand) with no network, from
 * the read-only corepack cache that prepareToolchain filled before the run.
 */
import { execFileSync } from "node:child_process";
import { lookup } from "node:dns/promises";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createSandbox,
  detectBubblewrap,
  prepareToolchain,
  type SpawningSandbox,
  type Toolchain,
} from "../../src/sandbox/index.js";
import { runnableOnThisNode, wantedPackageManager } from "../../src/sandbox/toolchain.js";
import { installDependencies } from "../../src/workspace/install.js";
import { makeWorkspace } from "./helpers.js";

// Skipped only where bubblewrap is missing (apt-get install bubblewrap); CI installs it, so these always run there.
const hasBwrap = detectBubblewrap().available;

const UNIT_TEST = `const test = require("node:test");
const assert = require("node:assert");
const isNumber = require("is-number");
test("the dependency works", () => assert.ok(isNumber(3) && !isNumber("x")));
`;

function writeProject(dir: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
}

function packageJson(manager: string | null, test: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    name: "toolchain-fixture",
    version: "1.0.0",
    private: true,
    ...(manager ? { packageManager: manager } : {}),
    scripts: { test, unit: "node --test" },
    dependencies: { "is-number": "7.0.0" },
    ...extra,
  });
}

function runOptions(toolchain: Toolchain) {
  return { env: toolchain.env, readOnlyPaths: toolchain.readOnlyPaths, pathPrefix: toolchain.pathPrefix };
}

describe("a pnpm that runs on this Node.js", () => {
  it("runs pnpm 10 in place of pnpm 11 and later before Node.js 22.13, and leaves everything else as asked", () => {
    const pnpm11 = { name: "pnpm" as const, version: "11.10.0", hash: "+sha512.abc" };
    expect(runnableOnThisNode(pnpm11, "20.20.2")).toEqual({ name: "pnpm", version: "10", hash: "" });
    expect(runnableOnThisNode({ ...pnpm11, version: "12" }, "21.7.0")).toEqual({
      name: "pnpm",
      version: "10",
      hash: "",
    });
    expect(runnableOnThisNode(pnpm11, "22.12.0")).toEqual({ name: "pnpm", version: "10", hash: "" });
    expect(runnableOnThisNode(pnpm11, "22.13.0")).toBe(pnpm11);
    expect(runnableOnThisNode(pnpm11, "24.1.0")).toBe(pnpm11);
    const pnpm10 = { name: "pnpm" as const, version: "10.33.0", hash: "" };
    expect(runnableOnThisNode(pnpm10, "20.20.2")).toBe(pnpm10);
    const yarn = { name: "yarn" as const, version: "4.5.3", hash: "" };
    expect(runnableOnThisNode(yarn, "20.20.2")).toBe(yarn);
  });
});

describe("what a repository asks for", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "odavl-wanted-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases: [string, Record<string, string>, unknown][] = [
    ["the packageManager field", { "package.json": '{"packageManager":"pnpm@8.15.9+sha512.abc"}' }, "pnpm@8.15.9"],
    ["a pnpm lockfile v5", { "pnpm-lock.yaml": "lockfileVersion: 5.4\n" }, "pnpm@7"],
    ["a pnpm lockfile v6", { "pnpm-lock.yaml": "lockfileVersion: '6.0'\n" }, "pnpm@8"],
    ["a pnpm lockfile v9", { "pnpm-lock.yaml": "lockfileVersion: '9.0'\n" }, "pnpm@9"],
    ["a classic yarn.lock", { "yarn.lock": "# yarn lockfile v1\n\n" }, "yarn@1"],
    ["a berry yarn.lock", { "yarn.lock": "__metadata:\n  version: 8\n  cacheKey: 10c0\n" }, "yarn@4"],
    ["an npm repository", { "package-lock.json": "{}" }, null],
  ];
  for (const [name, files, expected] of cases) {
    it(`reads ${name}`, () => {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
      writeProject(dir, files);
      const { wanted, problem } = wantedPackageManager(dir);
      expect(problem).toBeNull();
      expect(wanted ? `${wanted.name}@${wanted.version}` : null).toBe(expected);
    });
  }

  it("says what is wrong with a packageManager field it cannot use", () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeProject(dir, { "package.json": '{"packageManager":"pnpm@latest"}' });
    expect(wantedPackageManager(dir).problem).toBe(
      'package.json: packageManager "pnpm@latest" is not <npm|pnpm|yarn>@<version>',
    );
    writeProject(dir, { "package.json": '{"packageManager":"bun@1.1.0"}' });
    expect(wantedPackageManager(dir).problem).toMatch(/bun is not supported/);
  });
});

describe.skipIf(!hasBwrap)("the repository's package manager runs inside the sandbox, offline", () => {
  let sandbox: SpawningSandbox;
  let cacheDir: string;
  const roots: string[] = [];
  const workspace = () => {
    const { root, ws } = makeWorkspace();
    roots.push(root);
    return ws;
  };

  beforeAll(() => {
    sandbox = createSandbox({ defaults: { timeoutMs: 90_000 } });
    cacheDir = mkdtempSync(path.join(os.tmpdir(), "odavl-toolchain-test-"));
  });
  afterAll(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it("a pnpm repository whose test script calls pnpm", async () => {
    const ws = workspace();
    writeProject(ws, {
      "package.json": packageJson("pnpm@9.15.0", "pnpm run unit"),
      "test/unit.test.js": UNIT_TEST,
    });
    const install = await installDependencies(ws, { timeoutMs: 180_000, cacheDir: path.join(cacheDir, "packages") });
    expect(install.packageManager.name).toBe("pnpm");

    const toolchain = await prepareToolchain(ws, { cacheDir });
    expect(toolchain.problem).toBeNull();
    expect(toolchain.packageManager).toBe("pnpm@9.15.0");
    expect(toolchain.env.COREPACK_ENABLE_NETWORK).toBe("0");

    const r = await sandbox.run({ cwd: ws, command: "pnpm", args: ["test"], ...runOptions(toolchain) });
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain("> toolchain-fixture@1.0.0 unit");
    expect(r.stdout).toMatch(/^# pass 1$/m);

    // Without it, the same script has no pnpm: the failure the toolchain is for.
    const bare = await sandbox.run({ cwd: ws, command: "sh", args: ["-c", "pnpm run unit"] });
    expect(bare.exitCode).toBe(127);
  });

  it("a pnpm 11 repository gets a pnpm that runs on this Node.js", async () => {
    const ws = workspace();
    writeProject(ws, {
      "package.json": packageJson("pnpm@11.10.0", "pnpm run unit"),
      "test/unit.test.js": UNIT_TEST,
    });
    await installDependencies(ws, { timeoutMs: 180_000, cacheDir: path.join(cacheDir, "packages") });
    const toolchain = await prepareToolchain(ws, { cacheDir });
    expect(toolchain.problem).toBeNull();
    const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
    if (major < 22 || (major === 22 && minor < 13)) {
      expect(toolchain.packageManager).toMatch(
        /^pnpm@10\.\d+\.\d+ \(in place of pnpm@11\.10\.0, which needs Node\.js 22\.13\)$/,
      );
    } else {
      expect(toolchain.packageManager).toBe("pnpm@11.10.0");
    }
    const r = await sandbox.run({ cwd: ws, command: "pnpm", args: ["test"], ...runOptions(toolchain) });
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^# pass 1$/m);
  });

  it("a yarn 4 repository whose test script calls yarn", async () => {
    const ws = workspace();
    writeProject(ws, {
      "package.json": packageJson("yarn@4.5.3", "yarn run unit"),
      ".yarnrc.yml": "nodeLinker: node-modules\n",
      "test/unit.test.js": UNIT_TEST,
    });
    const toolchain = await prepareToolchain(ws, { cacheDir });
    expect(toolchain.problem).toBeNull();
    expect(toolchain.packageManager).toBe("yarn@4.5.3");
    // Installed on the host with the real yarn from the same cache (this fixture is ours; scripts off anyway).
    execFileSync("yarn", ["install"], {
      cwd: ws,
      env: {
        PATH: `${toolchain.pathPrefix.join(":")}:/usr/bin:/bin`,
        HOME: ws,
        COREPACK_HOME: toolchain.env.COREPACK_HOME,
        YARN_ENABLE_SCRIPTS: "0",
        YARN_ENABLE_TELEMETRY: "0",
        YARN_ENABLE_GLOBAL_CACHE: "0",
        ...(process.env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS } : {}),
      },
      stdio: "pipe",
      timeout: 180_000,
    });
    const lock = readFileSync(path.join(ws, "yarn.lock"), "utf8");
    expect(lock).toContain("is-number@npm:7.0.0");

    const r = await sandbox.run({ cwd: ws, command: "yarn", args: ["test"], ...runOptions(toolchain) });
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^# pass 1$/m);
    expect(readFileSync(path.join(ws, "yarn.lock"), "utf8")).toBe(lock);
  });

  it("has no network while they run: the registry is unreachable and nothing new can be fetched", async () => {
    const ws = workspace();
    writeProject(ws, { "package.json": packageJson("pnpm@9.15.0", "pnpm run unit") });
    const toolchain = await prepareToolchain(ws, { cacheDir });
    // By address, not by name: the sandbox has no resolver either, and a name that does not resolve would prove
    // nothing about the network itself.
    const { address } = await lookup("registry.npmjs.org", { family: 4 });
    const probe = `const s = require("net").connect(443, "${address}");
s.setTimeout(5000, () => { console.log("unreachable timeout"); process.exit(3); });
s.on("connect", () => { console.log("reached"); process.exit(0); });
s.on("error", (e) => { console.log("unreachable", e.code); process.exit(3); });`;
    const r = await sandbox.run({
      cwd: ws,
      command: "sh",
      args: [
        "-c",
        // The probe, a package that is not installed, and a pnpm version that is not in the cache (corepack asked
        // to use the network anyway): each needs the network.
        `node -e '${probe}'; echo "probe=$?"; npm_config_fetch_retries=0 pnpm add is-odd@3.0.1 >/dev/null 2>&1; echo "add=$?"; ` +
          `out=$(COREPACK_ENABLE_NETWORK=1 COREPACK_HOME=/tmp/corepack corepack pnpm@8.15.9 --version 2>&1); ` +
          `echo "other=$? $(echo "$out" | grep -o -m 1 -E 'EAI_AGAIN|ENOTFOUND|ECONNREFUSED|ENETUNREACH|fetch failed')"`,
      ],
      ...runOptions(toolchain),
    });
    expect(r.stdout).toMatch(/^unreachable/m);
    expect(r.stdout).toContain("probe=3");
    expect(r.stdout).toMatch(/^add=[1-9]/m);
    expect(r.stdout).toMatch(/^other=[1-9]\d* (EAI_AGAIN|ENOTFOUND|ECONNREFUSED|ENETUNREACH|fetch failed)$/m);
    expect(readFileSync(path.join(ws, "package.json"), "utf8")).not.toContain("is-odd");
    // The same probe from the host reaches the registry: the sandbox, not the machine, is what cuts it off.
    const host = execFileSync(process.execPath, ["-e", probe], { encoding: "utf8", timeout: 30_000 });
    expect(host).toMatch(/^reached$/m);
  });

  it("runs a yarn release the repository commits, from any subdirectory, with nothing downloaded", async () => {
    const ws = workspace();
    const release = path.join(cacheDir, "corepack", "v1", "yarn", "4.5.3", "yarn.js");
    writeProject(ws, {
      "package.json": JSON.stringify({ name: "committed-yarn", private: true }),
      ".yarnrc.yml": 'yarnPath: ".yarn/releases/yarn-4.5.3.cjs"\n',
      "packages/a/index.js": "",
    });
    mkdirSync(path.join(ws, ".yarn", "releases"), { recursive: true });
    copyFileSync(release, path.join(ws, ".yarn", "releases", "yarn-4.5.3.cjs"));
    const empty = mkdtempSync(path.join(os.tmpdir(), "odavl-toolchain-empty-"));
    try {
      const toolchain = await prepareToolchain(ws, { cacheDir: empty, registry: "http://127.0.0.1:9/" });
      expect(toolchain.problem).toBeNull();
      expect(toolchain.packageManager).toBe("yarn (.yarn/releases/yarn-4.5.3.cjs)");
      const r = await sandbox.run({
        cwd: ws,
        command: "sh",
        args: ["-c", "cd packages/a && yarn --version"],
        ...runOptions(toolchain),
      });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe("4.5.3");
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("reports a version that cannot be had, and the run then finds no package manager", async () => {
    const ws = workspace();
    writeProject(ws, { "package.json": packageJson("pnpm@0.0.999", "pnpm run unit") });
    const toolchain = await prepareToolchain(ws, { cacheDir });
    expect(toolchain.packageManager).toBeNull();
    expect(toolchain.problem).toMatch(/^cannot prepare pnpm@0\.0\.999: /);
    const r = await sandbox.run({ cwd: ws, command: "sh", args: ["-c", "pnpm test"], ...runOptions(toolchain) });
    expect(r.exitCode).toBe(127);
  });
});
