/**
 * What `odavl cycle` tells a user (items 1, 6, 9, 11) and what it leaves behind when interrupted (item 10), on the
 * real demo repository with real recipes.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildDemoRepo } from "../../src/cli/demo-repo.js";
import { groupSkipped } from "../../src/cli/render.js";
import { odavl } from "../helpers/cli.js";
import { removeTempDirs, tempDir } from "../helpers/engine.js";

const BIN = resolve(import.meta.dirname, "../../bin/odavl.js");

afterAll(() => removeTempDirs());

/** The demo repository with an uncommitted file that does not parse. */
function dirtyDemo(): string {
  const dir = join(tempDir("odavl-user-"), "repo");
  buildDemoRepo(dir);
  writeFileSync(join(dir, "src", "broken.ts"), "export function broken( {\n  return 1;\n");
  return dir;
}

interface CycleJson {
  candidates: {
    recipe: string;
    patch: string;
    verification: { success: boolean; failureCause?: string; newDiagnostics: number } | null;
  }[];
  skipped: { file: string; reason: string }[];
  skippedGroups: { file: string; reason: string; by: string[] }[];
  workingTree: { dirty: boolean; uncommitted: string[] };
  history: string;
}

describe("odavl cycle output", () => {
  it("refuses a dirty working tree unless --allow-dirty, naming the changes", async () => {
    const repo = dirtyDemo();
    const r = await odavl({ ODAVL_DATA_DIR: tempDir() }, "cycle", repo, "--no-store", "--no-tests");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("has uncommitted changes (src/broken.ts)");
    expect(r.stderr).toContain("--allow-dirty");
  });

  it("the terminal summary says why the trust, why a fix failed, shows its diff, and labels a dirty tree; one parse error is one skipped item, with no markdown escapes", async () => {
    const repo = dirtyDemo();
    const recipes = "eslint/dot-notation,eslint/prefer-const,eslint/no-var";
    const env = { ODAVL_DATA_DIR: tempDir(), ML_ENABLE: "false" };
    const r = await odavl(env, "cycle", repo, "--no-store", "--no-tests", "--allow-dirty", "--recipes", recipes);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout;
    // Item 1: the dot-notation fix breaks the type check (noPropertyAccessFromIndexSignature): its cause and diff.
    const dot = out.slice(out.indexOf("[eslint/dot-notation]"));
    expect(dot).toMatch(/why this trust: \S/);
    expect(dot).toMatch(/why it failed: \d+ new type-check diagnostics?: src\/settings\.ts:\d+ TS4111/);
    expect(dot).toMatch(/--- a\/src\/settings\.ts\n\s+\+\+\+ b\/src\/settings\.ts\n\s+@@ /);
    expect(dot).toMatch(/^\s+\+.*settings\.timeout/m);
    // Item 6 and 11: the labels.
    expect(out).toContain("Working tree with 1 uncommitted change on top of");
    expect(out).toContain("--no-store: no history was read or written");
    // Item 9: the parse error once, and no markdown escape anywhere.
    const broken = out.split("\n").filter((l) => l.includes("src/broken.ts"));
    expect(broken).toHaveLength(1);
    expect(out).not.toMatch(/\\[()[\]`*_#<>!|]/);
  }, 400_000);

  it("--json carries each candidate's patch in unified diff form and its verification", async () => {
    const repo = dirtyDemo();
    const env = { ODAVL_DATA_DIR: tempDir(), ML_ENABLE: "false" };
    const args = ["--json", "--no-store", "--no-tests", "--allow-dirty", "--recipes", "eslint/dot-notation"];
    const r = await odavl(env, "cycle", repo, ...args);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as CycleJson;
    const dot = j.candidates.find((c) => c.recipe === "eslint/dot-notation");
    expect(dot?.patch).toMatch(/^--- a\/src\/settings\.ts\n\+\+\+ b\/src\/settings\.ts\n@@ -\d+,\d+ \+\d+,\d+ @@\n/);
    expect(dot?.verification?.success).toBe(false);
    expect(dot?.verification?.failureCause).toMatch(/TS4111/);
    expect(j.workingTree).toEqual({ dirty: true, uncommitted: ["src/broken.ts"] });
    expect(j.history).toBe("none (--no-store)");
    expect(j.skippedGroups.filter((g) => g.file === "src/broken.ts")).toHaveLength(1);
  }, 400_000);

  it("a real cycle interrupted with Ctrl-C (SIGINT to its process group) leaves no temporary file", async () => {
    const repo = join(tempDir("odavl-user-"), "repo");
    buildDemoRepo(repo);
    const tmp = tempDir("odavl-tmpdir-");
    const child = spawn(
      process.execPath,
      [BIN, "cycle", repo, "--no-store", "--no-tests", "--recipes", "biome/use-const,eslint/prefer-const"],
      {
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: tmp, ODAVL_DATA_DIR: tempDir() },
      },
    );
    let stderr = "";
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.on("exit", (code, signal) => done({ code, signal })),
    );
    await new Promise<void>((ready, fail) => {
      child.stderr.on("data", (c: Buffer) => {
        stderr += c.toString();
        // Mid-cycle: the candidates are being planned (tools' scratch directories exist) or verified.
        if (/candidates: planning|verify/.test(stderr)) ready();
      });
      void exited.then(() => fail(new Error(`the cycle ended before it could be interrupted: ${stderr}`)));
    });
    // tsx keeps its compile cache (tsx-<uid>) in the temp dir when the CLI runs from the sources: not a file of the
    // cycle, and kept on purpose.
    const ours = () => readdirSync(tmp).filter((n) => !/^tsx-\d+$/.test(n));
    expect(ours().length).toBeGreaterThan(0);
    process.kill(-(child.pid as number), "SIGINT");
    const { code } = await exited;
    expect(code).toBe(130);
    expect(stderr).toContain("interrupted; removing temporary files");
    // Tools of the cycle's process group end with it; give them a moment to.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(ours()).toEqual([]);
    // ONNX Runtime's telemetry files (it writes them under /tmp whatever TMPDIR says).
    expect(existsSync(`/tmp/mat-debug-${child.pid}.log`)).toBe(false);
  }, 300_000);

  it("groups skipped items by cause and names a recipe that crashed", () => {
    const parse = "Parsing error: ')' expected. (2:28)";
    const skipped = [
      ...["eslint/no-var", "eslint/prefer-const", "biome/use-const"].map((id) => ({
        file: "src/broken.ts",
        reason: `${id}: ${parse}`,
      })),
      { file: "(recipe)", reason: "ts/add-override: Debug Failure. False expression: Changes overlap" },
    ];
    expect(groupSkipped(skipped)).toEqual([
      { file: "src/broken.ts", reason: parse, by: ["eslint/no-var", "eslint/prefer-const", "biome/use-const"] },
      {
        file: "recipe ts/add-override",
        reason: "Debug Failure. False expression: Changes overlap",
        by: ["ts/add-override"],
      },
    ]);
  });
});
