import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InstallError, installDependencies, WorkspaceError } from "../../src/workspace/index.js";
import { failureLine } from "../../src/workspace/install.js";
import { tempDir, writeFiles } from "./fixtures.js";

/**
 * A project depending on two local packages. Every package, the project included, has lifecycle scripts that
 * would leave a marker file if they ran.
 */
function createProject(root: string, name: string): { dir: string; markers: string } {
  const markers = path.join(root, `${name}-markers`);
  const write = (label: string) =>
    `node -e "require('fs').mkdirSync('${markers}',{recursive:true});require('fs').writeFileSync('${markers}/${label}','ran')"`;
  const dep = (depName: string) => ({
    [`${name}-${depName}/package.json`]: JSON.stringify({
      name: depName,
      version: "1.0.0",
      main: "index.js",
      scripts: {
        preinstall: write(`${depName}-preinstall`),
        install: write(`${depName}-install`),
        postinstall: write(`${depName}-postinstall`),
      },
    }),
    [`${name}-${depName}/index.js`]: `module.exports = "${depName}";\n`,
  });
  writeFiles(root, {
    ...dep("dep-one"),
    ...dep("dep-two"),
    [`${name}/package.json`]: JSON.stringify({
      name,
      version: "0.0.0",
      private: true,
      dependencies: { "dep-one": `file:../${name}-dep-one` },
      scripts: {
        preinstall: write("root-preinstall"),
        postinstall: write("root-postinstall"),
        prepare: write("root-prepare"),
      },
    }),
  });
  return { dir: path.join(root, name), markers };
}

describe("installDependencies", () => {
  let root: string;

  beforeAll(() => {
    root = tempDir("odavl-install-test-");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("installs without a lockfile using npm install, and runs no lifecycle script", async () => {
    const { dir, markers } = createProject(root, "nolock");
    const result = await installDependencies(dir, { timeoutMs: 120_000, cacheDir: path.join(root, "cache") });
    expect(result.packageManager.name).toBe("npm");
    expect(result.steps).toHaveLength(1);
    expect(result.steps[0]?.command.slice(0, 2)).toEqual(["npm", "install"]);
    expect(result.steps[0]?.command).toContain("--ignore-scripts");
    expect(result.fellBack).toBe(false);
    expect(existsSync(path.join(dir, "node_modules", "dep-one", "index.js"))).toBe(true);
    expect(existsSync(markers)).toBe(false);
  });

  it("uses npm ci with a lockfile, and falls back to npm install when the lockfile is out of date", async () => {
    const { dir, markers } = createProject(root, "withlock");
    execFileSync("npm", ["install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root, npm_config_cache: path.join(root, "cache", "npm") },
      stdio: "ignore",
    });
    expect(existsSync(path.join(dir, "package-lock.json"))).toBe(true);

    const ci = await installDependencies(dir, { timeoutMs: 120_000, cacheDir: path.join(root, "cache") });
    expect(ci.steps.map((s) => s.command[1])).toEqual(["ci"]);
    expect(ci.packageManager.lockfile).toBe("package-lock.json");
    expect(lstatSync(path.join(dir, "node_modules", "dep-one")).isSymbolicLink()).toBe(true);
    expect(existsSync(markers)).toBe(false);

    // A dependency added to package.json but not to the lockfile: npm ci refuses, npm install copes.
    const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    pkg.dependencies["dep-two"] = "file:../withlock-dep-two";
    writeFileSync(path.join(dir, "package.json"), JSON.stringify(pkg));
    const fallback = await installDependencies(dir, { timeoutMs: 120_000, cacheDir: path.join(root, "cache") });
    expect(fallback.steps.map((s) => s.command[1])).toEqual(["ci", "install"]);
    expect(fallback.steps[0]?.exitCode).not.toBe(0);
    expect(fallback.fellBack).toBe(true);
    expect(existsSync(path.join(dir, "node_modules", "dep-two", "index.js"))).toBe(true);
    expect(existsSync(markers)).toBe(false);
  });

  it("retries npm ci with --legacy-peer-deps when npm refuses the tree over a peer dependency", async () => {
    // Packed packages (not links, whose peers npm does not check): dep-one wants dep-two ^2, the project has 1.0.0.
    const pack = (name: string, pkg: Record<string, unknown>) => {
      const src = path.join(root, "peer-src", name);
      writeFiles(src, { "package.json": JSON.stringify({ name, version: "1.0.0", ...pkg }), "index.js": "" });
      execFileSync("npm", ["pack", "--silent", "--pack-destination", path.join(root, "peer-src")], {
        cwd: src,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: root,
          npm_config_cache: path.join(root, "cache", "npm"),
        },
        stdio: "ignore",
      });
      return `file:../peer-src/${name}-1.0.0.tgz`;
    };
    const dir = path.join(root, "peers");
    writeFiles(dir, {
      "package.json": JSON.stringify({
        name: "peers",
        version: "0.0.0",
        private: true,
        dependencies: {
          "dep-one": pack("dep-one", { peerDependencies: { "dep-two": "^2.0.0" } }),
          "dep-two": pack("dep-two", {}),
        },
      }),
    });
    // The lockfile such a project ships: made with npm 6's peer rules.
    execFileSync(
      "npm",
      ["install", "--package-lock-only", "--legacy-peer-deps", "--ignore-scripts", "--no-audit", "--no-fund"],
      {
        cwd: dir,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: root,
          npm_config_cache: path.join(root, "cache", "npm"),
        },
        stdio: "ignore",
      },
    );
    const result = await installDependencies(dir, {
      timeoutMs: 120_000,
      cacheDir: path.join(root, "cache"),
      // Offline: npm ci's search for a dep-two ^2 fails at once instead of asking the registry.
      registry: "http://127.0.0.1:9/",
      env: { npm_config_fetch_retries: "0" },
    });
    expect(result.steps.map((s) => s.command.slice(1).filter((a) => a === "ci" || a === "--legacy-peer-deps"))).toEqual(
      [["ci"], ["ci", "--legacy-peer-deps"]],
    );
    expect(result.fellBack).toBe(true);
    expect(existsSync(path.join(dir, "node_modules", "dep-two", "package.json"))).toBe(true);
  });

  it("says why an install failed in one line: pnpm's ERR_PNPM_ line from stdout, npm's code and message", () => {
    const pnpmOut =
      'Lockfile is up to date\n ERR_PNPM_OUTDATED_LOCKFILE  Cannot install with "frozen-lockfile" because pnpm-lock.yaml is not up to date with package.json\n\nNote that in CI environments this setting is true by default.\n';
    expect(failureLine(pnpmOut, "")).toBe(
      'ERR_PNPM_OUTDATED_LOCKFILE Cannot install with "frozen-lockfile" because pnpm-lock.yaml is not up to date with package.json',
    );
    const npmErr =
      "npm error code ETARGET\nnpm error notarget No matching version found for pnpm@99.0.0.\nnpm error A complete log of this run can be found in: /tmp/x.log\n";
    expect(failureLine("", npmErr)).toBe(
      "npm error code ETARGET: npm error notarget No matching version found for pnpm@99.0.0.",
    );
    expect(failureLine("last of stdout\n", "")).toBe("last of stdout");
  });

  it("installs a pnpm project with the lockfile's pnpm when the version packageManager names cannot be had", async () => {
    const dir = path.join(root, "pnpm-unpublished");
    writeFiles(dir, {
      "package.json": JSON.stringify({
        name: "pnpm-unpublished",
        version: "0.0.0",
        private: true,
        packageManager: "pnpm@99.0.0",
      }),
      "pnpm-lock.yaml": "lockfileVersion: '6.0'\n",
    });
    const result = await installDependencies(dir, { timeoutMs: 300_000, cacheDir: path.join(root, "cache") });
    const specs = result.steps.map((s) => s.command.find((a) => a.startsWith("pnpm@")));
    expect(specs).toEqual(["pnpm@99.0.0", "pnpm@99.0.0", "pnpm@8"]);
    expect(result.steps[2]?.exitCode).toBe(0);
    expect(result.fellBack).toBe(true);
  }, 320_000);

  it("falls back to pnpm 10 when the pnpm packageManager names (11) does not run on this Node.js", async () => {
    // pnpm 11 needs Node 22 (node:sqlite); on an older Node it stops with ERR_UNKNOWN_BUILTIN_MODULE.
    const dir = path.join(root, "pnpm-too-new");
    writeFiles(dir, {
      "package.json": JSON.stringify({
        name: "pnpm-too-new",
        version: "0.0.0",
        private: true,
        packageManager: "pnpm@11.0.0",
      }),
      "pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
      // pnpm 10 and 11 accept a workspace file with settings only; pnpm 9 refuses it ("packages field missing").
      "pnpm-workspace.yaml": "onlyBuiltDependencies: []\n",
    });
    const result = await installDependencies(dir, { timeoutMs: 300_000, cacheDir: path.join(root, "cache") });
    const specs = result.steps.map((s) => s.command.find((a) => a.startsWith("pnpm@")));
    const nodeMajor = Number(process.versions.node.split(".")[0]);
    if (nodeMajor < 22) {
      expect(specs).toEqual(["pnpm@11.0.0", "pnpm@11.0.0", "pnpm@10"]);
      expect(result.fellBack).toBe(true);
    } else {
      expect(specs).toEqual(["pnpm@11.0.0"]);
    }
    expect(result.steps.at(-1)?.exitCode).toBe(0);
  }, 320_000);

  it("reports a failed install with a typed error naming the directory", async () => {
    const dir = path.join(root, "broken");
    writeFiles(dir, { "package.json": '{ "name": "broken", "dependencies": ' });
    const error = await installDependencies(dir, { timeoutMs: 120_000, cacheDir: path.join(root, "cache") }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InstallError);
    expect((error as InstallError).target).toBe(dir);
  });

  it("skips a directory without package.json and refuses credentials in its environment", async () => {
    const dir = path.join(root, "empty");
    writeFiles(dir, { "README.md": "nothing" });
    const skipped = await installDependencies(dir, { timeoutMs: 10_000 });
    expect(skipped.skipped).toBe("no package.json");
    const { dir: project } = createProject(root, "secretenv");
    await expect(
      installDependencies(project, { timeoutMs: 10_000, env: { NPM_TOKEN: "secret" } }),
    ).rejects.toBeInstanceOf(WorkspaceError);
  });
});
