import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Diagnostic } from "../../src/engine/types.js";
import {
  createSandbox,
  detectBubblewrap,
  ourTypeScriptDir,
  startTypeChecker,
  type TypeChecker,
  TypeCheckerError,
} from "../../src/sandbox/index.js";
import { changeExportedShape, type GeneratedRepo, generateTsRepo, insertAtBody } from "../helpers/gen-repo-ts.js";

// Skipped only where bubblewrap is missing (apt-get install bubblewrap); CI installs it, so these always run there.
const hasBwrap = detectBubblewrap().available;

/** Diagnostics of a real `tsc --noEmit` run, in the checker's shape. */
function runTsc(dir: string): Diagnostic[] {
  const tsc = path.join(ourTypeScriptDir(), "bin", "tsc");
  const r = spawnSync(process.execPath, [tsc, "--noEmit", "-p", ".", "--pretty", "false"], {
    cwd: dir,
    encoding: "utf8",
  });
  const out: Diagnostic[] = [];
  for (const line of r.stdout.split("\n")) {
    const m = /^(.+)\((\d+),(\d+)\): (?:error|warning) TS(\d+): (.*)$/.exec(line);
    if (m) {
      out.push({
        file: m[1] as string,
        line: Number(m[2]),
        column: Number(m[3]),
        code: Number(m[4]),
        message: m[5] as string,
      });
    } else if (/^\s/.test(line) && out.length > 0) {
      const last = out[out.length - 1] as Diagnostic;
      last.message += `\n${line}`;
    }
  }
  return out;
}

const key = (d: Diagnostic) => `${d.file}:${d.line}:${d.column}:TS${d.code}:${d.message}`;
const keys = (ds: Diagnostic[]) => ds.map(key).sort();

/** A copy of the fixture with the overrides written, for a tsc run to compare against. */
function tscWithOverrides(base: string, overrides: Map<string, string>): Diagnostic[] {
  const copy = mkdtempSync(path.join(os.tmpdir(), "odavl-tc-oracle-"));
  try {
    cpSync(base, copy, { recursive: true, verbatimSymlinks: true });
    for (const [file, content] of overrides) writeFileSync(path.join(copy, file), content);
    return runTsc(copy);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

function serverPids(root: string): number[] {
  const table = execFileSync("ps", ["-eo", "pid=,uid=,args="], { encoding: "utf8" });
  return table
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((cols) => cols[1] !== "0" || !cols.includes("--chdir"))
    .filter(
      (cols) =>
        cols.some((c) => c.endsWith("typecheck-server.cjs")) && cols.includes(root) && cols[2]?.endsWith("node"),
    )
    .map((cols) => Number(cols[0]));
}

let workRoot: string;
let repoDir: string;
let repo: GeneratedRepo;
let tscBaseline: Diagnostic[];

beforeAll(() => {
  workRoot = mkdtempSync(path.join(os.tmpdir(), "odavl-tc-test-"));
  repoDir = path.join(workRoot, "repo");
  mkdirSync(repoDir);
  repo = generateTsRepo(repoDir, { files: 24, baselineErrors: 2 });
  // The repository's own TypeScript, as after installing its dependencies.
  mkdirSync(path.join(repoDir, "node_modules"));
  symlinkSync(ourTypeScriptDir(), path.join(repoDir, "node_modules", "typescript"), "dir");
  tscBaseline = runTsc(repoDir);
});

afterAll(() => rmSync(workRoot, { recursive: true, force: true }));

describe("incremental type checker", () => {
  const read = (file: string) => readFileSync(path.join(repoDir, file), "utf8");

  describe.skipIf(!hasBwrap)("in the sandbox with the repository's TypeScript", () => {
    let checker: TypeChecker;

    beforeAll(async () => {
      checker = await startTypeChecker({ root: repoDir, sandbox: createSandbox(), timeoutMs: 60_000 });
    });
    afterAll(async () => {
      await checker?.close();
    });

    it("loads the repository's TypeScript inside the sandbox", () => {
      expect(checker.isolated).toBe(true);
      expect(checker.fromRepository).toBe(true);
      expect(checker.typescriptPath).toBe(path.join(repoDir, "node_modules", "typescript"));
      const ours = JSON.parse(readFileSync(path.join(ourTypeScriptDir(), "package.json"), "utf8")) as {
        version: string;
      };
      expect(checker.typescriptVersion).toBe(ours.version);
    });

    it("reports the same baseline as tsc --noEmit", async () => {
      expect(tscBaseline.length).toBe(2);
      const baseline = await checker.baseline();
      expect(keys(baseline)).toEqual(keys(tscBaseline));
    });

    it("reports an error a candidate introduces, and forgets it on the next check", async () => {
      const file = repo.services[3] as string;
      const broken = insertAtBody(read(file), 'const broken: number = "text";');
      const withError = await checker.check(new Map([[file, broken]]));
      const added = withError.filter((d) => !keys(tscBaseline).includes(key(d)));
      expect(added).toHaveLength(1);
      expect(added[0]).toMatchObject({ file, code: 2322 });
      expect(added[0]?.message).toContain("not assignable to type 'number'");

      const restored = await checker.check(new Map());
      expect(keys(restored)).toEqual(keys(tscBaseline));
    });

    it("matches tsc when a candidate changes an exported shape that other files use", async () => {
      const util = repo.utils.find((u) =>
        repo.services.some((s) => read(s).includes(`/${path.basename(u, ".ts")}.js"`)),
      );
      expect(util).toBeDefined();
      const overrides = new Map([[util as string, changeExportedShape(read(util as string))]]);
      const body = repo.features[5] as string;
      overrides.set(body, insertAtBody(read(body), "void 0;"));
      const checked = await checker.check(overrides);
      const expected = tscWithOverrides(repoDir, overrides);
      expect(expected.length).toBeGreaterThan(tscBaseline.length);
      expect(keys(checked)).toEqual(keys(expected));
    });

    it("reports syntax errors of a candidate, with the semantic diagnostics tsc would hold back", async () => {
      const file = repo.features[1] as string;
      const overrides = new Map([[file, `${read(file)}\nexport const = ;\n`]]);
      const checked = await checker.check(overrides);
      // tsc stops at syntax errors; the checker reports them and keeps the semantic diagnostics as well.
      const tscSyntax = tscWithOverrides(repoDir, overrides);
      expect(tscSyntax.map((d) => d.code)).toContain(1134);
      for (const d of tscSyntax) expect(keys(checked)).toContain(key(d));
      for (const d of tscBaseline) expect(keys(checked)).toContain(key(d));
    });

    it("answers requests sent together in order, each time limit running from when the server gets to it", async () => {
      const file = repo.services[2] as string;
      const one = async (i: number) =>
        checker.check(new Map([[file, insertAtBody(read(file), `const n${i}: "x${i}" = "y${i}";`)]]));
      // Each answer is its own request's: the error it plants, at its line.
      const answers = await Promise.all([1, 2, 3].map(one));
      answers.forEach((diagnostics, i) => {
        const added = diagnostics.filter((d) => !keys(tscBaseline).includes(key(d)));
        expect(added.map((d) => d.message)).toEqual([expect.stringContaining(`not assignable to type '"x${i + 1}"'`)]);
      });
      // A checker whose limit is a few checks long answers many more sent at once: queued ones do not time out.
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        await one(10 + i);
        times.push(performance.now() - t0);
      }
      const single = [...times].sort((a, b) => a - b)[1] as number;
      // The limit must also cover a fresh server's start and baseline on this machine, as busy as it is now.
      const t0 = performance.now();
      const fresh = await startTypeChecker({ root: repoDir, sandbox: createSandbox(), timeoutMs: 60_000 });
      await fresh.baseline();
      const startup = performance.now() - t0;
      await fresh.close();
      const limit = Math.max(2_000, 5 * single, 2 * startup);
      const queued = Math.ceil((2 * limit) / single) + 1;
      const tight = await startTypeChecker({ root: repoDir, sandbox: createSandbox(), timeoutMs: limit });
      try {
        await tight.baseline();
        const all = await Promise.all(
          Array.from({ length: queued }, (_, i) =>
            tight.check(new Map([[file, insertAtBody(read(file), `const q${i}: string = ${i};`)]])),
          ),
        );
        expect(all).toHaveLength(queued);
      } finally {
        await tight.close();
      }
    }, 120_000);

    it("rejects override paths outside the repository", async () => {
      await expect(checker.check(new Map([["../escape.ts", "x"]]))).rejects.toBeInstanceOf(TypeCheckerError);
      await expect(checker.check(new Map([["/etc/passwd", "x"]]))).rejects.toBeInstanceOf(TypeCheckerError);
    });
  });

  describe.skipIf(!hasBwrap)("when the server dies", () => {
    it("rejects with a typed error, and after close too", async () => {
      const checker = await startTypeChecker({ root: repoDir, sandbox: createSandbox(), timeoutMs: 60_000 });
      const pids = serverPids(repoDir);
      expect(pids.length).toBe(1);
      process.kill(pids[0] as number, "SIGKILL");
      const error = await checker.check(new Map()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeCheckerError);
      expect((error as TypeCheckerError).failure).toBe("exited");
      await checker.close();
      await expect(checker.baseline()).rejects.toBeInstanceOf(TypeCheckerError);
    });

    it("rejects a request that runs past the time limit, and stops the server", async () => {
      const error = await startTypeChecker({ root: repoDir, sandbox: createSandbox(), timeoutMs: 1 }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TypeCheckerError);
      expect((error as TypeCheckerError).failure).toBe("timeout");
      // The server is killed with the rejection; on a loaded machine its exit may take a moment to show.
      const deadline = Date.now() + 10_000;
      while (serverPids(repoDir).length > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(serverPids(repoDir)).toEqual([]);
    }, 30_000);
  });

  it.skipIf(!hasBwrap)("reads linked packages outside the checkout when they are exposed", async () => {
    const small = path.join(workRoot, "linked");
    const shared = path.join(workRoot, "shared-pkg");
    mkdirSync(path.join(small, "src"), { recursive: true });
    mkdirSync(path.join(small, "node_modules"), { recursive: true });
    mkdirSync(shared, { recursive: true });
    writeFileSync(
      path.join(shared, "package.json"),
      JSON.stringify({ name: "shared", version: "1.0.0", types: "index.d.ts" }),
    );
    writeFileSync(path.join(shared, "index.d.ts"), "export declare const shared: number;\n");
    symlinkSync(shared, path.join(small, "node_modules", "shared"), "dir");
    writeFileSync(
      path.join(small, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: "NodeNext",
          moduleResolution: "NodeNext",
          lib: ["ES2022"],
          types: [],
          skipLibCheck: true,
          noEmit: true,
        },
      }),
    );
    writeFileSync(
      path.join(small, "src", "a.ts"),
      'import { shared } from "shared";\nexport const n: number = shared;\n',
    );
    const sandbox = createSandbox();

    const hidden = await startTypeChecker({ root: small, sandbox, timeoutMs: 60_000 });
    const withoutLink = await hidden.baseline();
    await hidden.close();
    expect(withoutLink.map((d) => d.code)).toContain(2307);

    const exposed = await startTypeChecker({ root: small, sandbox, timeoutMs: 60_000, readOnlyPaths: [shared] });
    const withLink = await exposed.baseline();
    await exposed.close();
    expect(withLink).toEqual([]);
  });

  it.skipIf(!hasBwrap)(
    "checks with our TypeScript, without running any of the repository's, when the repository's has no usable API",
    async () => {
      const withTypeScript = (version: string, entry = true) => {
        const dir = mkdtempSync(path.join(workRoot, `ts-${version}-`));
        mkdirSync(path.join(dir, "src"));
        writeFileSync(path.join(dir, "src", "a.ts"), 'export const a: number = "one";\n');
        const pkg = path.join(dir, "node_modules", "typescript");
        mkdirSync(pkg, { recursive: true });
        writeFileSync(
          path.join(pkg, "package.json"),
          JSON.stringify({ name: "typescript", version, ...(entry ? { main: "index.js" } : {}) }),
        );
        // Loading the package at all shows up as this message in a server error.
        if (entry)
          writeFileSync(path.join(pkg, "index.js"), 'throw new Error("the repository TypeScript was loaded");\n');
        return dir;
      };
      const sandbox = createSandbox();
      const ours = JSON.parse(readFileSync(path.join(ourTypeScriptDir(), "package.json"), "utf8")) as {
        version: string;
      };
      const cases: [string, boolean, RegExp][] = [
        ["2.9.2", true, /older than 4\.5/],
        ["4.4.4", true, /older than 4\.5/],
        ["not-a-version", true, /no readable version/],
        ["7.0.0", true, /has no language-service API/],
        ["5.0.0", false, /no JavaScript entry point/],
      ];
      for (const [version, entry, reason] of cases) {
        const checker = await startTypeChecker({ root: withTypeScript(version, entry), sandbox, timeoutMs: 60_000 });
        try {
          expect(checker.fromRepository).toBe(false);
          expect(checker.typescriptVersion).toBe(ours.version);
          expect(checker.repositoryTypeScript?.version).toBe(version);
          expect(checker.repositoryTypeScript?.reason).toMatch(reason);
          // The baseline and a candidate come from the same compiler, ours.
          expect((await checker.baseline()).map((d) => d.code)).toEqual([2322]);
          expect(await checker.check(new Map([["src/a.ts", "export const a: number = 1;\n"]]))).toEqual([]);
        } finally {
          await checker.close();
        }
      }
      // 4.5 has the API: the package is loaded (and this fake one throws while loading).
      const accepted = await startTypeChecker({ root: withTypeScript("4.5.0"), sandbox, timeoutMs: 60_000 }).catch(
        (e: unknown) => e,
      );
      expect((accepted as TypeCheckerError).failure).toBe("server-error");
      expect((accepted as Error).message).toContain("the repository TypeScript was loaded");
    },
    120_000,
  );

  it.skipIf(!hasBwrap)("drops compiler options our TypeScript no longer supports, with a note for each", async () => {
    const dir = mkdtempSync(path.join(workRoot, "old-options-"));
    mkdirSync(path.join(dir, "src"));
    writeFileSync(path.join(dir, "src", "a.ts"), "export const a = 1;\n");
    writeFileSync(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { target: "ES3", keyofStringsOnly: true, importsNotUsedAsValues: "error", types: [] },
      }),
    );
    const pkg = path.join(dir, "node_modules", "typescript");
    mkdirSync(pkg, { recursive: true });
    writeFileSync(path.join(pkg, "package.json"), JSON.stringify({ name: "typescript", version: "3.9.10" }));
    const checker = await startTypeChecker({ root: dir, sandbox: createSandbox(), timeoutMs: 60_000 });
    try {
      const notes = checker.configNotes.join("\n");
      expect(notes).toMatch(/dropped, no longer supported by TypeScript [\d.]+: /);
      for (const option of ["target", "keyofStringsOnly", "importsNotUsedAsValues"]) expect(notes).toContain(option);
      expect(await checker.baseline()).toEqual([]);
    } finally {
      await checker.close();
    }
  });

  it("without a sandbox, uses our TypeScript in a plain child process", async () => {
    await expect(startTypeChecker({ root: repoDir, timeoutMs: 60_000 })).rejects.toMatchObject({
      failure: "unavailable",
    });
    const checker = await startTypeChecker({ root: repoDir, timeoutMs: 60_000, useRepoTypeScript: false });
    try {
      expect(checker.isolated).toBe(false);
      expect(checker.fromRepository).toBe(false);
      expect(keys(await checker.baseline())).toEqual(keys(tscBaseline));
      const file = repo.features[2] as string;
      const checked = await checker.check(new Map([[file, insertAtBody(read(file), "const n: string = 1;")]]));
      expect(checked.length).toBe(tscBaseline.length + 1);
    } finally {
      await checker.close();
    }
  });
});
