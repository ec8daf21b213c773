/**
 * Fault suite, hostile repositories: symlinks out of the tree (a file and a directory), file names with `..`,
 * newlines and shell syntax, a tsconfig whose `include` and `files` point outside, binary and huge files, 3,000
 * files, syntax errors, a tsconfig extending a missing file, and a commit whose tree climbs out with `..`. Each is
 * handled and reported, and nothing outside the workspace is touched: a sentinel directory the repository aims at
 * has the same entries, contents and modification times before and after, and the checkout itself is unchanged.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, symlinkSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countRows } from "../../src/db/queries/cycles.js";
import { setConsent, upsertRepository } from "../../src/db/queries/repositories.js";
import type { CycleSummary } from "../../src/engine/types.js";
import { detectBubblewrap } from "../../src/sandbox/index.js";
import { checkout, GitError } from "../../src/workspace/index.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import {
  createSentinel,
  cycleRequest,
  engineDeps,
  removeTempDirs,
  runCycle,
  smallProject,
  snapshotTree,
  storedResults,
  tempDir,
  writeRepo,
} from "../helpers/engine.js";

// Skipped only where bubblewrap is missing (apt-get install bubblewrap): the cycle runs the repository's TypeScript
// and tests in it. CI has it.
const hasBwrap = detectBubblewrap().available;

/** Names that a careless join, shell line or line-based parser would turn into something else. */
const HOSTILE_NAMES = [
  "src/..hidden.ts",
  "src/dots../inner.ts",
  "src/we ird $(touch PWNED) ;name`touch PWNED2`.ts",
  "src/new\nline.ts",
  "src/-rf.ts",
];

/**
 * The test script writes through the symlinks out of the tree and climbs out with `..`: inside the sandbox those
 * lead nowhere the host can see.
 */
const ESCAPING_TEST = `const fs = require("fs");
const attempt = (f) => { try { fs.writeFileSync(f, "pwned by the tests"); } catch {} };
attempt("src/escape.ts");
attempt("src/linked-dir/deep.ts");
attempt("src/linked-dir/new-file.ts");
attempt("../../pwned-by-tests");
attempt(process.argv[2] + "/pwned-by-tests");
console.log("tests ran");
`;

describe.skipIf(!hasBwrap)("hostile repositories", () => {
  let db: TestDb;
  let sentinel: ReturnType<typeof createSentinel>;
  beforeAll(async () => {
    db = await createTestDb("pglite");
    const repo = await upsertRepository(db.db, { owner: "test", name: "repo", mode: "shadow" });
    await setConsent(db.db, repo.id, "dataCollection", true, { source: "operator", actor: "test" });
    sentinel = createSentinel();
  });
  afterAll(async () => {
    await db?.cleanup();
    removeTempDirs();
  });

  it("symlinks out, traversal and odd names, outside includes, binary, huge and 3,000 files, syntax errors", async () => {
    const dir = path.join(tempDir(), "messy");
    const relSentinel = path.relative(dir, sentinel.dir);
    const files: Record<string, string | Buffer> = smallProject(`node test/run.js ${sentinel.dir}`, {
      "tsconfig.json": JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, target: "ES2022", module: "NodeNext", skipLibCheck: true },
        include: ["src", `${relSentinel}/**/*`],
        files: [path.join(sentinel.dir, "outside.ts")],
      }),
      "test/run.js": ESCAPING_TEST,
      "src/broken.ts": "export const = ;\nlet b = 2;\n",
      "src/blob.ts": Buffer.from([0x00, 0x01, 0x02, 0xff, 0x00, 0x6c, 0x65, 0x74]),
      "src/huge.ts": `export let x = "${"x".repeat(2 * 1024 * 1024)}";\n`,
    });
    for (const name of HOSTILE_NAMES) files[name] = "let a = 1;\nexport { a };\n";
    for (let i = 0; i < 3000; i++) {
      files[`src/many/d${Math.floor(i / 100)}/f${i}.ts`] = `export const v${i}: number = ${i};\n`;
    }
    mkdirSync(path.join(dir, "src"), { recursive: true });
    symlinkSync(path.join(sentinel.dir, "outside.ts"), path.join(dir, "src/escape.ts"));
    symlinkSync(sentinel.dir, path.join(dir, "src/linked-dir"));
    writeRepo(dir, files);

    const sentinelBefore = sentinel.snapshot();
    const repoBefore = snapshotTree(dir);
    const cwdBefore = readdirSync(process.cwd());
    const summary: CycleSummary = await runCycle(
      cycleRequest(dir, { recipeIds: ["eslint/prefer-const", "biome/use-const"] }),
      engineDeps(db.db, undefined, { testTimeoutMs: 180_000 }),
    );
    expect(summary.status, summary.error ?? "").toBe("completed");
    // First of all: nothing outside the workspace changed.
    expect(sentinel.snapshot()).toEqual(sentinelBefore);

    const skipped = summary.skipped.map((s) => `${s.file}: ${s.reason}`).join("\n");
    expect(skipped).toMatch(/^src\/escape\.ts: symlink that leaves the repository/m);
    expect(skipped).toMatch(/^src\/linked-dir: symlink that leaves the repository/m);
    expect(skipped).toMatch(/^src\/blob\.ts: binary/m);
    expect(skipped).toMatch(/^src\/huge\.ts: file too large/m);
    expect(skipped).toMatch(/^src\/broken\.ts: /m);
    expect(skipped).toMatch(/^tsconfig\.json: includes \d+ files? outside the repository \(ignored\)/m);

    // The 3,000 files are read; the odd names are fixed like any other file, and only files of the repository are.
    expect(summary.facts?.sourceFiles).toBeGreaterThanOrEqual(3000 + HOSTILE_NAMES.length);
    const changed = new Set(summary.results.flatMap((r) => r.candidate.files.map((f) => f.path)));
    // The linters leave dot-files (src/..hidden.ts) alone, like any tool matching **/*.ts.
    for (const name of HOSTILE_NAMES.filter((n) => !path.posix.basename(n).startsWith("."))) {
      expect([...changed], JSON.stringify(name)).toContain(name);
    }
    expect(changed).toContain("src/a.ts");
    for (const file of changed) {
      expect(file.startsWith("src/"), file).toBe(true);
      expect(file.split("/")).not.toContain("..");
      expect(file.startsWith("src/linked-dir") || file === "src/escape.ts", file).toBe(false);
    }
    // Both tools make the same patch: verified once, in the sandbox, where the tests passed.
    expect(summary.facts?.testsPassing).toBe("pass");
    expect(summary.results.map((r) => r.outcome?.tests)).toContain("pass");
    const stored = await storedResults(db.db, summary.id);
    expect(stored.length).toBe(summary.results.length);

    // Nothing outside the workspace changed, the checkout itself did not change, no shell ran a file name.
    expect(sentinel.snapshot()).toEqual(sentinelBefore);
    expect(existsSync(path.join(path.dirname(path.dirname(dir)), "pwned-by-tests"))).toBe(false);
    const repoAfter = snapshotTree(dir);
    for (const entry of [...Object.values(repoBefore), ...Object.values(repoAfter)]) entry.mode &= 0o111;
    for (const snap of [repoBefore, repoAfter])
      for (const [k, e] of Object.entries(snap)) if (e.type === "dir") snap[k] = { ...e, mtimeMs: 0 };
    expect(repoAfter).toEqual(repoBefore);
    expect(readdirSync(process.cwd())).toEqual(cwdBefore);
    expect(execFileSync("git", ["status", "--porcelain"], { cwd: dir, encoding: "utf8" })).toBe("");
  });

  it("a tsconfig that extends a missing file fails the cycle with a message naming it, and is stored", async () => {
    const dir = path.join(tempDir(), "extends");
    writeRepo(
      dir,
      smallProject("node -e 0", {
        "tsconfig.json": JSON.stringify({
          extends: `${path.relative(dir, sentinel.dir)}/missing.json`,
          include: ["src"],
        }),
      }),
    );
    const before = await countRows(db.db);
    const sentinelBefore = sentinel.snapshot();
    const summary = await runCycle(cycleRequest(dir, { runTests: false }), engineDeps(db.db));
    expect(summary.status).toBe("failed");
    expect(summary.error).toMatch(/missing\.json/);
    const after = await countRows(db.db);
    expect(after.cycles - before.cycles).toBe(1);
    expect(after.predictions).toBe(before.predictions);
    expect(sentinel.snapshot()).toEqual(sentinelBefore);
  });

  it("a commit whose tree climbs out with '..' does not check out, and writes nothing beside the workspace", async () => {
    const source = path.join(tempDir(), "climbing");
    mkdirSync(source);
    const git = (args: string[], input?: string) =>
      execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@localhost", ...args], {
        cwd: source,
        encoding: "utf8",
        ...(input === undefined ? {} : { input }),
      }).trim();
    git(["init", "-q", "-b", "main"]);
    const blob = git(["hash-object", "-w", "--stdin"], "export let pwned = 1;\n");
    const inner = git(["mktree"], `100644 blob ${blob}\tpwned.ts\n`);
    const top = git(["mktree"], `040000 tree ${inner}\t..\n100644 blob ${blob}\tok.ts\n`);
    const commit = git(["commit-tree", top, "-m", "climb"]);
    git(["update-ref", "refs/heads/main", commit]);

    const parent = tempDir("odavl-checkout-parent-");
    const dest = path.join(parent, "ws");
    const error = await checkout({ source, ref: commit, dest, timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expect(String((error as Error).message)).toMatch(/invalid path|\.\./);
    expect(readdirSync(parent)).toEqual([]);
  });
});
