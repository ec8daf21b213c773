/**
 * bench:baseline — only the cycle's Observe baseline on prepared checkouts (npm run corpus:prepare): the type check
 * and the tests in the sandbox, side by side as a cycle runs them, through the same runtime tools. Beside it, the
 * same test command run directly, without the sandbox, in a full copy of the checkout (`cp -a`), as a maintainer
 * runs it on this machine. Prints, per repository: the test command, the outside result, the baseline's test result
 * and its reason when not `pass`; and the share of repositories whose tests pass outside that the baseline sees
 * pass too. No checkout is ever written: both runs work on copies. Run it at `nice`: it runs repository tests.
 *
 *   npm run bench:baseline -- <collect list | corpus tsv>... [--into /work/corpus] [--repos a/b,name]
 *        [--shard 1/2] [--timeout 900] [--scratch dir] [--out results.json] [--markdown] [--no-outside]
 *        [--no-typecheck]
 *   npm run bench:baseline -- --from <out.json>... [--markdown]   (merge earlier runs' --out files and print them)
 *
 * --out is rewritten after every repository. A later --from file's figures of a repository replace an earlier
 * one's, so a rerun of a few repositories updates a full run.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cp, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { readEnv } from "../src/config/env.js";
import { readTsconfig } from "../src/engine/observe.js";
import { createRuntime } from "../src/runtime/create-runtime.js";
import { isSecretName } from "../src/sandbox/env.js";
import { createWorkingCopy } from "../src/workspace/index.js";
import { type BenchTarget, readBenchTargets, selectTargets } from "./corpus.js";

type Target = BenchTarget;

interface OutsideRun {
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  tail: string;
}

interface RepoBaseline {
  repo: string;
  dir: string;
  testCommand: string;
  error?: string;
  outside?: OutsideRun;
  baseline?: { status: string; reason: string; durationMs: number; command: string | null };
  typecheck?: { diagnostics: number | null; compiler: string; durationMs: number; error?: string };
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    into: { type: "string", default: "/work/corpus" },
    repos: { type: "string" },
    shard: { type: "string" },
    timeout: { type: "string", default: "900" },
    scratch: { type: "string" },
    out: { type: "string" },
    markdown: { type: "boolean" },
    "no-outside": { type: "boolean" },
    "no-typecheck": { type: "boolean" },
    from: { type: "boolean" },
  },
});

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

if (positionals.length === 0) fail("usage: npm run bench:baseline -- <collect list | corpus tsv>... [--repos a/b]");

if (values.from) {
  const merged = new Map<string, RepoBaseline>();
  for (const file of positionals) {
    const doc = JSON.parse(readFileSync(file, "utf8")) as { repos?: RepoBaseline[] };
    if (!Array.isArray(doc.repos)) fail(`${file} is not a bench:baseline --out file (no "repos" array)`);
    for (const r of doc.repos) merged.set(r.repo, r);
  }
  report([...merged.values()].sort((a, b) => a.repo.localeCompare(b.repo)));
  process.exit(0);
}

const timeoutMs = Number(values.timeout) * 1000;
if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) fail("--timeout must be a positive number of seconds");

function readTargets(file: string): Target[] {
  try {
    return readBenchTargets(file, resolve(values.into), "bench:baseline");
  } catch (e) {
    return fail((e as Error).message);
  }
}

let targets = positionals.flatMap(readTargets);
try {
  targets = selectTargets(targets, values);
} catch (e) {
  fail((e as Error).message);
}

const env = readEnv(process.env);
const runtime = await createRuntime(env, { store: false, allowUnsandboxed: false });
if (!runtime.sandbox) fail(`no sandbox: ${runtime.sandboxProblem ?? "unknown"}`);
const scratchRoot = values.scratch ? resolve(values.scratch) : tmpdir();
await mkdir(scratchRoot, { recursive: true });
const scratch = await mkdtemp(join(scratchRoot, "odavl-bench-baseline-"));

function tail(s: string, lines = 8): string {
  return s.trim().split("\n").slice(-lines).join("\n").slice(-1500);
}

/**
 * The test command run directly in a full copy of the checkout, in this process's environment without anything
 * that looks like a credential, the copy's node_modules/.bin first on PATH (as npm scripts have it).
 */
async function runOutside(t: Target): Promise<OutsideRun> {
  const copy = join(scratch, `outside-${t.repo.replace("/", "__")}`);
  await rm(copy, { recursive: true, force: true });
  await cp(t.dir, copy, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !isSecretName(k)) childEnv[k] = v;
  childEnv.PATH = `${join(copy, "node_modules", ".bin")}:${process.env.PATH ?? "/usr/bin:/bin"}`;
  const t0 = performance.now();
  try {
    return await new Promise<OutsideRun>((done) => {
      const child = spawn("sh", ["-c", t.testCommand], {
        cwd: copy,
        env: childEnv,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      const keep = (b: Buffer) => {
        out = (out + b.toString("utf8")).slice(-64 * 1024);
      };
      child.stdout.on("data", keep);
      child.stderr.on("data", keep);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }, timeoutMs);
      child.on("close", (code) => {
        clearTimeout(timer);
        // Whatever the tests left running in the group goes with them.
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
        done({ exitCode: code, timedOut, durationMs: Math.round(performance.now() - t0), tail: tail(out) });
      });
    });
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}

/**
 * The cycle's Observe baseline: the type check and the tests in the sandbox, side by side, on a private working
 * copy of the checkout as `odavl cycle` makes one.
 */
async function runBaseline(t: Target): Promise<Pick<RepoBaseline, "baseline" | "typecheck">> {
  const copy = await createWorkingCopy(t.dir, scratch);
  try {
    return await observeBaseline({ ...t, dir: copy.dir });
  } finally {
    await copy.remove();
  }
}

async function observeBaseline(t: Target): Promise<Pick<RepoBaseline, "baseline" | "typecheck">> {
  const tools = runtime.deps.tools;
  const out: Pick<RepoBaseline, "baseline" | "typecheck"> = {};
  const typeCheck = async () => {
    if (values["no-typecheck"]) return;
    const t0 = performance.now();
    try {
      const tsconfig = readTsconfig(t.dir, []);
      const checker = await tools.startTypeChecker(t.dir, tsconfig.path);
      try {
        const diagnostics = await checker.baseline();
        out.typecheck = {
          diagnostics: diagnostics.length,
          compiler: checker.compiler
            ? `${checker.compiler.source} ${checker.compiler.version}`
            : `${checker.typescriptVersion ?? "?"}`,
          durationMs: Math.round(performance.now() - t0),
        };
      } finally {
        await checker.close();
      }
    } catch (error) {
      out.typecheck = {
        diagnostics: null,
        compiler: "-",
        durationMs: Math.round(performance.now() - t0),
        error: (error as Error).message.slice(0, 300),
      };
    }
  };
  const tests = async () => {
    const t0 = performance.now();
    const session = await tools.startTests(t.dir, { command: t.testCommand });
    if ("unavailable" in session) {
      out.baseline = {
        status: "unknown",
        reason: `unavailable: ${session.unavailable}`,
        durationMs: Math.round(performance.now() - t0),
        command: null,
      };
      return;
    }
    try {
      const b = await session.baseline();
      out.baseline = { status: b.status, reason: b.reason ?? "", durationMs: b.durationMs, command: session.command };
    } finally {
      await session.close();
    }
  };
  await Promise.all([typeCheck(), tests()]);
  return out;
}

const results: RepoBaseline[] = [];
const save = () => {
  if (values.out) writeFileSync(values.out, `${JSON.stringify({ timeoutMs, repos: results }, null, 2)}\n`);
};

for (const t of targets) {
  const r: RepoBaseline = { repo: t.repo, dir: t.dir, testCommand: t.testCommand };
  results.push(r);
  if (!existsSync(t.dir)) r.error = `no checkout at ${t.dir} (npm run corpus:prepare)`;
  else if (t.marker && !existsSync(t.marker)) r.error = "not prepared (see prepare-report.json)";
  else {
    try {
      if (!values["no-outside"]) r.outside = await runOutside(t);
      Object.assign(r, await runBaseline(t));
    } catch (error) {
      r.error = (error as Error).message.slice(0, 800);
    }
  }
  console.error(
    `${r.repo}: outside ${outsideResult(r)} ${sec(r.outside?.durationMs)} s; baseline ${r.baseline?.status ?? "-"} ` +
      `${sec(r.baseline?.durationMs)} s${r.baseline?.reason ? ` (${oneLine(r.baseline.reason)})` : ""}` +
      `${r.error ? `; error: ${r.error}` : ""}`,
  );
  save();
}
await rm(scratch, { recursive: true, force: true });
await runtime.close();
report(results);

function outsideResult(r: RepoBaseline): string {
  if (!r.outside) return "-";
  if (r.outside.timedOut) return "timeout";
  return r.outside.exitCode === 0 ? "pass" : `fail (exit ${r.outside.exitCode})`;
}

function sec(ms: number | null | undefined): string {
  return typeof ms === "number" ? (ms / 1000).toFixed(1) : "-";
}

function oneLine(s: string, max = 240): string {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function report(rows: RepoBaseline[]): void {
  const head = ["repo", "test command", "outside", "s", "baseline tests", "s", "reason"];
  const body = rows.map((r) => [
    r.repo,
    r.testCommand,
    outsideResult(r),
    sec(r.outside?.durationMs),
    r.baseline?.status ?? (r.error ? "error" : "-"),
    sec(r.baseline?.durationMs),
    oneLine(r.error ?? r.baseline?.reason ?? ""),
  ]);
  if (values.markdown) {
    const cell = (c: string) => c.replace(/\|/g, "\\|");
    console.log(`| ${head.join(" | ")} |`);
    console.log(`|${head.map(() => "---").join("|")}|`);
    for (const b of body) console.log(`| ${b.map((c, i) => (i === 1 ? `\`${cell(c)}\`` : cell(c))).join(" | ")} |`);
  } else {
    const widths = head.map((_, i) => Math.max(...[head, ...body].map((b) => Math.min((b[i] ?? "").length, 80))));
    for (const b of [head, ...body])
      console.log(
        b
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join("  ")
          .trimEnd(),
      );
  }
  const passOutside = rows.filter((r) => r.outside?.exitCode === 0 && !r.outside.timedOut);
  const both = passOutside.filter((r) => r.baseline?.status === "pass");
  const pct = passOutside.length ? ((100 * both.length) / passOutside.length).toFixed(1) : "-";
  console.log(
    `\n${both.length} of ${passOutside.length} repositories whose tests pass outside the sandbox pass at the cycle's baseline (${pct}%); ${rows.length} measured`,
  );
}
