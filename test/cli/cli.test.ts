/**
 * The command line as a user meets it: help, version, argument and setting errors, where state and reports go, a
 * demo that never deletes files, and the `bin/odavl.js` launcher that never runs a stale build.
 */
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEMO_MARKER } from "../../src/cli/demo-repo.js";
import { describeConnectionError } from "../../src/cli/failures.js";
import { fitLine } from "../../src/cli/progress.js";
import { SPECS } from "../../src/cli/spec.js";
import { defaultDataDir } from "../../src/config/env.js";
import { odavl } from "../helpers/cli.js";
import { removeTempDirs, snapshotTree, tempDir } from "../helpers/engine.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin", "odavl.js");
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

afterAll(() => removeTempDirs());

/** `node bin/odavl.js …` as a real process, in `cwd`, with only the given environment (plus PATH). */
function run(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const STACK = /\n\s+at /;

describe("help and version (item 3)", () => {
  it("odavl <command> --help exits 0 with the command's usage, for every command", async () => {
    for (const name of Object.keys(SPECS)) {
      const r = await odavl({}, name, "--help");
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toMatch(new RegExp(`^usage: odavl ${name}`));
      expect(r.stdout, name).toContain("-h, --help");
      for (const flag of Object.keys((SPECS as Record<string, { options: object }>)[name]?.options ?? {})) {
        expect(r.stdout, `${name} --${flag}`).toContain(`--${flag}`);
      }
      expect((await odavl({}, "help", name)).stdout).toBe(r.stdout);
    }
    // -h too, and after other arguments.
    expect((await odavl({}, "cycle", "some/path", "-h")).code).toBe(0);
  });

  it("a real process: --version prints the package's version, cycle --help its usage, exit 0", () => {
    const v = run(["--version"]);
    expect(v.code).toBe(0);
    expect(v.stdout).toBe(`${VERSION}\n`);
    const h = run(["cycle", "--help"]);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^usage: odavl cycle <path>/);
    expect(h.stderr).toBe("");
  });

  it("a bad flag is one line naming it, with no raw parseArgs text and exit 2", async () => {
    const r = await odavl({}, "progress", "--bogus");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("odavl progress: Unknown option '--bogus'\n");
    expect(r.stderr).not.toContain("To specify a positional argument");
    const missing = await odavl({}, "export", "--format");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--format needs a value");
    const sub = await odavl({}, "model", "upgrade");
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain('unknown subcommand "upgrade"');
    const datasets = await odavl({ ODAVL_DATA_DIR: tempDir() }, "train", "--dataset", "a.jsonl.gz,,b.jsonl.gz");
    expect(datasets.code).toBe(2);
    expect(datasets.stderr).toContain('--dataset: an empty file name in "a.jsonl.gz,,b.jsonl.gz"');
  });
});

describe("settings are checked at start-up (item 4)", () => {
  it("DATABASE_URL and REDIS_URL of the wrong scheme, or no URL at all, exit 2 naming the variable", async () => {
    for (const [variable, value] of [
      ["DATABASE_URL", "mysql://u@db/x"],
      ["DATABASE_URL", "notaurl"],
      ["REDIS_URL", "http://127.0.0.1:6379"],
      ["REDIS_URL", "127.0.0.1:6379"],
    ] as const) {
      const r = await odavl({ ODAVL_DATA_DIR: tempDir(), [variable]: value }, "progress");
      expect(r.code, value).toBe(2);
      expect(r.stderr, value).toContain(`${variable}: must be a`);
      expect(r.stderr, value).not.toMatch(STACK);
    }
  });

  it("a real process: an unreachable DATABASE_URL host exits 2 naming the variable, without a stack", () => {
    const r = run(["progress"], { env: { DATABASE_URL: "postgres://nope.invalid:1/x", ODAVL_DATA_DIR: tempDir() } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("DATABASE_URL: could not reach nope.invalid:1");
    expect(r.stderr).not.toMatch(STACK);
  });

  it("connection failures are attributed by host and port, and only to a configured URL", () => {
    const env = { DATABASE_URL: "postgres://db.example:5433/x", REDIS_URL: "redis://cache.example:6380" };
    const refused = Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:6380"), {
      code: "ECONNREFUSED",
      address: "10.0.0.1",
      port: 6380,
    });
    expect(describeConnectionError(refused, env)).toMatch(/^REDIS_URL: could not reach cache\.example:6380/);
    const auth = Object.assign(new Error("password authentication failed"), { code: "28P01" });
    expect(describeConnectionError(auth, env)).toMatch(/^DATABASE_URL: password authentication failed/);
    const other = Object.assign(new Error("connect ECONNREFUSED 10.0.0.2:443"), { code: "ECONNREFUSED", port: 443 });
    expect(describeConnectionError(other, env)).toBeNull();
    expect(describeConnectionError(refused, {})).toBeNull();
  });

  it("odavl model promote of an unknown version: one line, exit 1, no stack", () => {
    const r = run(["model", "promote", "v9"], { env: { ODAVL_DATA_DIR: tempDir() } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no model with version "v9"');
    expect(r.stderr).not.toMatch(STACK);
  }, 120_000);
});

describe("nothing is deleted or written where it was not asked for (items 2 and 5)", () => {
  it("odavl demo --dir <non-empty> refuses and every file survives", async () => {
    const dir = tempDir("odavl-user-");
    mkdirSync(join(dir, "notes"));
    writeFileSync(join(dir, "notes", "todo.md"), "keep me\n");
    writeFileSync(join(dir, "thesis.tex"), "\\documentclass{article}\n");
    const before = snapshotTree(dir);
    const r = await odavl({ ODAVL_DATA_DIR: tempDir() }, "demo", "--dir", dir, "--no-store", "--no-tests");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("is not empty");
    expect(snapshotTree(dir)).toEqual(before);
    expect(readFileSync(join(dir, "notes", "todo.md"), "utf8")).toBe("keep me\n");
    expect(existsSync(join(dir, DEMO_MARKER))).toBe(false);
  });

  it("the data directory is ODAVL_DATA_DIR, else $XDG_DATA_HOME/odavl, else ~/.local/share/odavl", () => {
    expect(defaultDataDir({ XDG_DATA_HOME: "/x/data", HOME: "/home/u" })).toBe("/x/data/odavl");
    expect(defaultDataDir({ HOME: "/home/u" })).toBe("/home/u/.local/share/odavl");
    // A relative XDG_DATA_HOME is invalid by the specification and ignored.
    expect(defaultDataDir({ XDG_DATA_HOME: "data", HOME: "/home/u" })).toBe("/home/u/.local/share/odavl");
  });

  it("a real process: progress and report run in an empty directory create nothing there", () => {
    const cwd = tempDir("odavl-empty-");
    const xdg = tempDir("odavl-xdg-");
    const env = { XDG_DATA_HOME: xdg, COLLECT_TARGET: "10" };
    const p = run(["progress"], { cwd, env });
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toContain("samples:");
    const r = run(["report"], { cwd, env });
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(cwd)).toEqual([]);
    // The state and the reports are under the data directory.
    expect(existsSync(join(xdg, "odavl", "pgdata"))).toBe(true);
    expect(readdirSync(join(xdg, "odavl", "reports")).sort()).toEqual(["ACCURACY_REPORT.md", "report.html"]);
    expect(r.stdout).toContain(`wrote ${join(xdg, "odavl", "reports", "report.html")}`);
  }, 240_000);
});

describe("the launcher and fast argument errors (item 7)", () => {
  /** A copy of the launcher beside a dist/ and a src/ that each say which one ran. */
  function launcherRoot(): string {
    const root = tempDir("odavl-launcher-");
    mkdirSync(join(root, "bin"));
    cpSync(BIN, join(root, "bin", "odavl.js"));
    symlinkSync(join(ROOT, "node_modules"), join(root, "node_modules"), "dir");
    writeFileSync(join(root, "package.json"), JSON.stringify({ type: "module" }));
    mkdirSync(join(root, "dist", "cli"), { recursive: true });
    writeFileSync(join(root, "dist", "cli", "main.js"), 'console.log("dist");\n');
    mkdirSync(join(root, "src", "cli"), { recursive: true });
    writeFileSync(join(root, "src", "cli", "main.ts"), 'const from: string = "src";\nconsole.log(from);\n');
    return root;
  }
  const launch = (root: string) =>
    spawnSync(process.execPath, [join(root, "bin", "odavl.js")], { encoding: "utf8", env: { PATH: process.env.PATH } })
      .stdout;

  it("runs dist/ only when it was built after the last change to src/, the sources otherwise", () => {
    const root = launcherRoot();
    const old = new Date(Date.now() - 3_600_000);
    const now = new Date();
    utimesSync(join(root, "dist", "cli", "main.js"), now, now);
    for (const p of ["src/cli/main.ts", "src/cli", "src"]) utimesSync(join(root, p), old, old);
    expect(launch(root)).toBe("dist\n");
    // An edit to a source after the build: the sources run.
    writeFileSync(join(root, "src", "cli", "main.ts"), 'const from: string = "src, edited";\nconsole.log(from);\n');
    expect(launch(root)).toBe("src, edited\n");
    // A new file under src/ also makes the build stale.
    utimesSync(join(root, "src", "cli", "main.ts"), old, old);
    utimesSync(join(root, "src", "cli"), old, old);
    expect(launch(root)).toBe("dist\n");
    writeFileSync(join(root, "src", "extra.ts"), "export {};\n");
    expect(launch(root)).toBe("src, edited\n");
  });

  it("an installed package (no src/ beside dist/) runs dist/", () => {
    const root = launcherRoot();
    cpSync(join(root, "src"), join(root, "src-moved"), { recursive: true });
    spawnSync("rm", ["-rf", join(root, "src")]);
    expect(launch(root)).toBe("dist\n");
  });

  it("a path error is answered before the engine loads: no module of the engine is imported", () => {
    const dir = tempDir("odavl-hooks-");
    const log = join(dir, "loaded.txt");
    writeFileSync(log, "");
    writeFileSync(
      join(dir, "hooks.mjs"),
      `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (r.url.startsWith("file:") && r.url.includes("/src/")) appendFileSync(${JSON.stringify(log)}, r.url + "\\n");
  return r;
}
`,
    );
    writeFileSync(
      join(dir, "register.mjs"),
      `import { register } from "node:module";\nregister(${JSON.stringify(`file://${join(dir, "hooks.mjs")}`)});\n`,
    );
    const r = spawnSync(
      process.execPath,
      ["--import", join(dir, "register.mjs"), BIN, "cycle", "/nonexistent/odavl-repo"],
      { encoding: "utf8", env: { PATH: process.env.PATH, HOME: process.env.HOME, ODAVL_FROM_SOURCE: "1" } },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("odavl cycle: /nonexistent/odavl-repo does not exist\n");
    const loaded = readFileSync(log, "utf8");
    expect(loaded).toContain("/src/cli/main.ts");
    expect(loaded).not.toMatch(/\/src\/(engine|recipes|model|db|sandbox)\//);
    expect(loaded).not.toContain("/src/cli/commands/");
  });
});

describe("terminal output (item 11)", () => {
  it("progress lines keep their last character on a terminal that reports 0 columns", () => {
    expect(fitLine("verify 3/4 75% eslint/no-var", 0)).toBe("verify 3/4 75% eslint/no-var");
    expect(fitLine("verify 3/4 75% eslint/no-var", undefined)).toBe("verify 3/4 75% eslint/no-var");
    expect(fitLine("abcdef", 80)).toBe("abcdef");
    expect(fitLine("abcdefghij", 6)).toBe("abcd…");
  });
});
