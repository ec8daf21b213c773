/**
 * bench:real — cycles on prepared checkouts of real repositories (npm run corpus:prepare), beside the
 * repository's own type check and tests measured the same way: each in the sandbox, in a private copy of the
 * checkout. Prints, per repository and as medians, the cycle's phases, the own tsc and test times, and the ratio
 * cycle / (tsc + tests); and whether the cycle's baseline saw the tests pass where the repository's own test
 * command passes.
 *
 *   npm run bench:real -- <corpus tsv | collect list>... [--into /work/corpus] [--repos a/b,name]
 *        [--source train] [--shard 1/2] [--recipes r1,r2] [--timeout 900] [--out results.json] [--json]
 *        [--no-cycle] [--no-own] [--own-runs 3] [--timeline]
 *   npm run bench:real -- --from <out.json>...   (merge earlier runs' --out files and print them; a run made
 *        with --no-own keeps an earlier file's own times)
 *
 * A corpus TSV (data/corpus.tsv, the shared lists) names repositories whose checkouts are looked up in --into; a
 * collect list (`<path>\t<test command>`) names the checkouts directly. --out is rewritten after every repository,
 * so a long run that is stopped keeps what it measured. --json prints the figures as JSON instead of tables.
 * --timeline also prints, per cycle, when each phase, type check and test run began and ended (seconds from the
 * cycle's start), to show what waits for what.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { readEnv } from "../src/config/env.js";
import { runCycle } from "../src/engine/cycle.js";
import type { CycleTools, ProgressEvent, TestSession } from "../src/engine/ports.js";
import { DEFAULT_REPO_CONFIG } from "../src/engine/repo-config.js";
import { effectiveThresholds } from "../src/model/tiers.js";
import { RECIPES, selectRecipes, unknownSelectors } from "../src/recipes/index.js";
import { createRuntime } from "../src/runtime/create-runtime.js";
import { ourTypeScriptDir, type Sandbox } from "../src/sandbox/index.js";
import {
  createCandidateCopy,
  linkedPackageTargets,
  removeCandidateCopy,
  resetCandidateCopy,
} from "../src/workspace/index.js";
import { type BenchTarget, readBenchTargets, selectTargets } from "./corpus.js";
import { median } from "./stats.js";

type Target = BenchTarget;

interface OwnRun {
  command: string;
  exitCode: number | null;
  killed: string | null;
  durationMs: number;
  /** Last lines of output, to classify a failure. */
  tail: string;
  /** Every run's time, where the figure is their median (--own-runs). */
  runsMs?: number[];
}

interface RepoFigures {
  repo: string;
  dir: string;
  testCommand: string;
  error?: string;
  own?: { copyMs: number; tsc: OwnRun; tests: OwnRun };
  cycle?: {
    status: string;
    error: string | null;
    durationsMs: Record<string, number>;
    baseline: { status: string; reason: string; durationMs: number | null };
    candidates: number;
    verified: number;
    succeeded: number;
    skipped: number;
    /** With --timeline: what the cycle waited for, in seconds from its start. */
    timeline?: TimelineSpan[];
    /** Where Verify's time went: the candidates' lint passes (summed) and the test runs made. */
    work?: { lintMs: number; testRuns: number; testRunsMs: number; lintedAhead?: number };
  };
  /** cycle total / (own tsc + own tests). */
  ratio?: number | null;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    into: { type: "string", default: "/work/corpus" },
    repos: { type: "string" },
    source: { type: "string" },
    shard: { type: "string" },
    recipes: { type: "string" },
    timeout: { type: "string", default: "900" },
    out: { type: "string" },
    json: { type: "boolean" },
    "no-cycle": { type: "boolean" },
    "no-own": { type: "boolean" },
    "own-runs": { type: "string", default: "3" },
    from: { type: "boolean" },
    timeline: { type: "boolean" },
  },
});

interface TimelineSpan {
  label: string;
  startS: number;
  endS: number | null;
  result?: string;
}

/** When each phase, type check and test run of one cycle began and ended, in seconds from the cycle's start. */
class Timeline {
  readonly spans: TimelineSpan[] = [];
  private readonly t0 = performance.now();

  private at(): number {
    return Math.round(performance.now() - this.t0) / 1000;
  }

  mark(label: string): void {
    this.spans.push({ label, startS: this.at(), endS: null });
  }

  async span<T>(label: string, f: () => Promise<T>, result?: (value: T) => string): Promise<T> {
    const span: TimelineSpan = { label, startS: this.at(), endS: null };
    this.spans.push(span);
    try {
      const value = await f();
      if (result) span.result = result(value);
      return value;
    } catch (error) {
      span.result = `threw: ${(error as Error).message.split("\n")[0]?.slice(0, 80)}`;
      throw error;
    } finally {
      span.endS = this.at();
    }
  }

  static print(repo: string, spans: readonly TimelineSpan[]): void {
    console.log(`\ntimeline of ${repo}'s cycle (seconds from its start)`);
    for (const s of [...spans].sort((a, b) => a.startS - b.startS)) {
      const when =
        s.endS === null
          ? `${s.startS.toFixed(1)}`.padStart(13)
          : `${s.startS.toFixed(1)}–${s.endS.toFixed(1)}`.padStart(13);
      console.log(`${when}  ${s.label}${s.result ? ` → ${s.result}` : ""}`);
    }
  }
}

const medianOrNull = (xs: number[]): number | null => (xs.length === 0 ? null : median(xs));

/** The cycle's phases (observe and candidates overlap: the recipes plan while the baseline runs). */
const PHASES = ["observe", "candidates", "decide", "verify", "bundles", "total"] as const;

/**
 * Own times over every repository measured; cycle phases and ratios over completed cycles only (an aborted cycle's
 * total is the time limit, not a measurement).
 */
function medians(all: RepoFigures[]) {
  const completed = all.filter((r) => r.cycle?.status === "completed");
  const nums = (f: (r: RepoFigures) => number | null | undefined, rows = completed) =>
    rows.map(f).filter((n): n is number => typeof n === "number" && Number.isFinite(n));
  const out: Record<string, number | null> = {
    tscMs: medianOrNull(nums((r) => r.own?.tsc.durationMs, all)),
    testsMs: medianOrNull(nums((r) => r.own?.tests.durationMs, all)),
    completedCycles: completed.length,
    ratio: medianOrNull(nums((r) => r.ratio)),
  };
  for (const p of PHASES) out[`cycle.${p}Ms`] = medianOrNull(nums((r) => r.cycle?.durationsMs[p]));
  out["cycle.testRuns"] = medianOrNull(nums((r) => r.cycle?.work?.testRuns));
  return out;
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

if (positionals.length === 0) fail("usage: npm run bench:real -- <corpus tsv | collect list>... [--repos a/b]");
const timeoutMs = Number(values.timeout) * 1000;
if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) fail(`--timeout must be a positive number of seconds`);
const ownRuns = Number(values["own-runs"]);
if (!Number.isInteger(ownRuns) || ownRuns < 1)
  fail(`--own-runs must be a positive integer (got ${values["own-runs"]})`);
const selectors = values.recipes
  ?.split(",")
  .map((s) => s.trim())
  .filter(Boolean);
if (selectors) {
  const unknown = unknownSelectors(selectors);
  if (unknown.length > 0)
    fail(`unknown recipes: ${unknown.join(", ")} (catalog: ${RECIPES.map((r) => r.id).join(", ")})`);
}
const recipes = selectRecipes(selectors ? { enabled: selectors } : {});

function readTargets(file: string): Target[] {
  try {
    return readBenchTargets(file, resolve(values.into), "bench:real");
  } catch (e) {
    return fail((e as Error).message);
  }
}

/** cycle total / (own tsc + own tests), or null where either is missing. */
function ratioOf(fig: RepoFigures): number | null {
  const own = fig.own ? fig.own.tsc.durationMs + fig.own.tests.durationMs : null;
  const total = fig.cycle?.durationsMs.total;
  return own && total !== undefined ? Number((total / own).toFixed(2)) : null;
}

/** A repository's figures from a later run over an earlier run's: what the later one measured wins. */
function mergeFigures(earlier: RepoFigures | undefined, later: RepoFigures): RepoFigures {
  if (!earlier || later.error) return later;
  const fig: RepoFigures = { ...later };
  if (!fig.own && earlier.own) fig.own = earlier.own;
  if (!fig.cycle && earlier.cycle) fig.cycle = earlier.cycle;
  fig.ratio = ratioOf(fig);
  return fig;
}

if (values.from) {
  // The positionals are --out files of earlier runs (shards, reruns): merged, a later file's figures of a
  // repository replacing an earlier one's, and printed. A later run made with --no-own (or --no-cycle) replaces
  // only what it measured: the cycles of a change are measured against the own times measured once.
  const merged = new Map<string, RepoFigures>();
  for (const file of positionals) {
    const doc = JSON.parse(readFileSync(file, "utf8")) as { repos?: RepoFigures[] };
    if (!Array.isArray(doc.repos)) fail(`${file} is not a bench:real --out file (no "repos" array)`);
    for (const r of doc.repos) merged.set(r.repo, mergeFigures(merged.get(r.repo), r));
  }
  report(
    [...merged.values()].sort((a, b) => a.repo.localeCompare(b.repo)),
    new Date().toISOString(),
  );
  process.exit(0);
}

let targets = positionals.flatMap(readTargets);
if (values.source) {
  targets = targets.filter((t) => t.source === values.source);
  if (targets.length === 0) fail(`--source ${values.source} matches no repository of the list`);
}
try {
  targets = selectTargets(targets, values);
} catch (e) {
  fail((e as Error).message);
}

const env = readEnv(process.env);
const runtime = await createRuntime(env, { store: false, allowUnsandboxed: false });
if (!runtime.sandbox) fail(`no sandbox: ${runtime.sandboxProblem ?? "unknown"}`);
const sandbox = runtime.sandbox;
// Its own directory: several runs may share the machine (--shard), and each removes its scratch at the end.
const scratch = await mkdtemp(join(tmpdir(), "odavl-bench-real-"));

/** The cycle's test PATH for a shell test command (src/runtime/tools.ts), so both runs see the same tools. */
function testEnv(root: string): Record<string, string> {
  return { PATH: `${join(root, "node_modules", ".bin")}:/usr/local/bin:/usr/bin:/bin` };
}

function tail(s: string, lines = 6): string {
  return s.trim().split("\n").slice(-lines).join("\n").slice(-1200);
}

async function ownRun(sb: Sandbox, cwd: string, line: string, root: string, readOnlyPaths: string[]): Promise<OwnRun> {
  const r = await sb.run({
    cwd,
    command: "sh",
    args: ["-c", line],
    env: testEnv(root),
    readOnlyPaths,
    // Generous: these runs measure the repository, not the product's limits.
    limits: { timeoutMs, memoryMb: 16_384, maxProcesses: 1024, maxOutputBytes: 8 * 1024 * 1024 },
  });
  return {
    command: line,
    exitCode: r.exitCode,
    killed: r.killed ?? null,
    durationMs: Math.round(r.durationMs),
    tail: tail(`${r.stdout}\n${r.stderr}`),
  };
}

/**
 * The project the repository checks itself with: tsconfig.json at the root (the one the cycle reads), else one the
 * test command names with `tsc -p`, else src/tsconfig.json (microsoft/node-jsonc-parser keeps its only one there).
 */
function tsconfigOf(root: string, testCommand: string): string {
  if (existsSync(join(root, "tsconfig.json"))) return "tsconfig.json";
  const named = /\btsc\b[^&;|]*?\s-p\s+(\S+)/.exec(testCommand)?.[1];
  if (named && existsSync(join(root, named))) return named;
  return existsSync(join(root, "src", "tsconfig.json")) ? "src/tsconfig.json" : ".";
}

async function measureOwn(t: Target): Promise<NonNullable<RepoFigures["own"]>> {
  const t0 = performance.now();
  const copy = await createCandidateCopy(t.dir, [], scratch);
  const copyMs = Math.round(performance.now() - t0);
  try {
    const readOnlyPaths = [...new Set([...copy.readOnlyPaths, ...linkedPackageTargets(t.dir), ourTypeScriptDir()])];
    // One run of each is at the mercy of a shared machine's moment: the figures are medians of --own-runs runs,
    // the type check and the tests taking turns.
    const tscLine = `node_modules/.bin/tsc --noEmit -p ${tsconfigOf(t.dir, t.testCommand)}`;
    const tsc: OwnRun[] = [];
    const tests: OwnRun[] = [];
    for (let i = 0; i < ownRuns; i++) {
      // Each run starts from the checkout, as the cycle's runs do: what a run leaves (vitest's node_modules/.vite-temp,
      // owned by that run's uid) would otherwise fail the next one.
      if (i > 0) await resetCandidateCopy(copy, t.dir);
      tsc.push(await ownRun(sandbox, copy.dir, tscLine, t.dir, readOnlyPaths));
      tests.push(await ownRun(sandbox, copy.dir, t.testCommand, t.dir, readOnlyPaths));
    }
    return { copyMs, tsc: medianRun(tsc), tests: medianRun(tests) };
  } finally {
    await removeCandidateCopy(copy);
  }
}

/** The run of median time (the lower of the two middle ones), with every run's time beside it. */
function medianRun(runs: readonly OwnRun[]): OwnRun {
  const sorted = [...runs].sort((a, b) => a.durationMs - b.durationMs);
  const middle = sorted[Math.floor((sorted.length - 1) / 2)];
  if (middle === undefined) throw new Error("medianRun: no runs");
  return runs.length === 1 ? middle : { ...middle, runsMs: runs.map((r) => r.durationMs) };
}

/** The runtime's tools, with the baseline test result (status and reason) kept for the report. */
function observedTools(
  tools: CycleTools,
  seen: { baseline: NonNullable<RepoFigures["cycle"]>["baseline"]; testRuns: number; testRunsMs: number },
  timeline: Timeline,
) {
  const wrapped: CycleTools = {
    ...tools,
    async startTypeChecker(root, tsconfigPath) {
      const checker = await timeline.span("type checker start", () => tools.startTypeChecker(root, tsconfigPath));
      // Its own methods wrapped in place: the session is the product's object, whatever its class.
      const baseline = checker.baseline.bind(checker);
      const check = checker.check.bind(checker);
      checker.baseline = () => timeline.span("type check baseline", baseline);
      checker.check = (overrides) => timeline.span(`type check ${overrides.size} file(s)`, () => check(overrides));
      return checker;
    },
    async startTests(root, command) {
      const session = await tools.startTests(root, command);
      if ("unavailable" in session) {
        seen.baseline = { status: "unknown", reason: `unavailable: ${session.unavailable}`, durationMs: null };
        return session;
      }
      // The session as it is (its shortcut for unchanged output and its coverage among its methods), with its
      // baseline and runs observed: the cycle measured must be the one the product runs.
      const s: TestSession = {
        ...session,
        async run(edits, options) {
          const t0 = performance.now();
          const what = options?.only ? `${options.only.length} test file(s)` : `${edits.length} changed file(s)`;
          try {
            return await timeline.span(
              `tests: ${what}`,
              () => session.run(edits, options),
              (r) => r.status,
            );
          } finally {
            seen.testRuns++;
            seen.testRunsMs += performance.now() - t0;
          }
        },
        async baseline(options) {
          const b = await timeline.span(
            "tests: baseline",
            () => session.baseline(options),
            (r) => r.status,
          );
          seen.baseline = { status: b.status, reason: b.reason ?? "", durationMs: Math.round(b.durationMs) };
          return b;
        },
      };
      return s;
    },
  };
  return wrapped;
}

async function measureCycle(t: Target): Promise<NonNullable<RepoFigures["cycle"]>> {
  const seen = {
    baseline: { status: "not reached", reason: "", durationMs: null as number | null },
    testRuns: 0,
    testRunsMs: 0,
  };
  const work = () => ({ testRuns: seen.testRuns, testRunsMs: Math.round(seen.testRunsMs) });
  const sha = execFileSync("git", ["-C", t.dir, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
  const [owner = "local", name = t.repo] = t.repo.split("/");
  // Phase starts from the progress events: an aborted cycle throws without its durations, and these keep them.
  const marks = new Map<string, number>();
  let verifiedBeforeAbort = 0;
  let candidatesBeforeAbort = 0;
  const timeline = new Timeline();
  const onProgress = (e: ProgressEvent) => {
    if (!marks.has(e.phase)) {
      marks.set(e.phase, performance.now());
      timeline.mark(`phase ${e.phase}`);
    }
    if (e.phase === "verify") {
      verifiedBeforeAbort = e.done;
      candidatesBeforeAbort = e.total;
    }
  };
  const t0 = performance.now();
  try {
    const summary = await runCycle(
      {
        root: t.dir,
        repository: { owner, name, mode: "shadow" },
        sha,
        trigger: "cli",
        recipes,
        config: DEFAULT_REPO_CONFIG,
        thresholds: effectiveThresholds({
          autoApply: env.ML_AUTO_APPLY_THRESHOLD,
          review: env.ML_CONFIDENCE_THRESHOLD,
        }),
        scopes: ["all"],
        runTests: true,
        testCommand: t.testCommand,
        collectData: false,
        signal: AbortSignal.timeout(timeoutMs),
      },
      { ...runtime.deps, tools: observedTools(runtime.deps.tools, seen, timeline), onProgress },
    );
    const outcomes = summary.results.map((r) => r.outcome).filter((o) => o !== null);
    return {
      status: summary.status,
      error: summary.error,
      durationsMs: summary.durationsMs,
      baseline: summary.facts ? { ...seen.baseline, status: summary.facts.testsPassing } : seen.baseline,
      candidates: summary.results.length,
      verified: outcomes.filter((o) => o.status === "verified").length,
      succeeded: outcomes.filter((o) => o.success).length,
      skipped: summary.skipped.length,
      work: {
        lintMs: Math.round(outcomes.reduce((n, o) => n + (o.durationsMs?.lint ?? 0), 0)),
        ...work(),
        lintedAhead: summary.ahead?.linted ?? 0,
      },
      ...(values.timeline ? { timeline: timeline.spans } : {}),
    };
  } catch (error) {
    const end = performance.now();
    const durationsMs: Record<string, number> = { total: Math.round(end - t0) };
    const order = ["observe", "candidates", "decide", "verify"].filter((p) => marks.has(p));
    order.forEach((p, i) => {
      const next = order[i + 1];
      durationsMs[p] = Math.round((next ? (marks.get(next) as number) : end) - (marks.get(p) as number));
    });
    return {
      status: "threw",
      error: (error as Error).message.slice(0, 800),
      durationsMs,
      baseline: seen.baseline,
      candidates: candidatesBeforeAbort,
      verified: verifiedBeforeAbort,
      succeeded: 0,
      skipped: 0,
      work: { lintMs: 0, ...work() },
      ...(values.timeline ? { timeline: timeline.spans } : {}),
    };
  }
}

const results: RepoFigures[] = [];
const save = () => {
  if (!values.out) return;
  const doc = { startedAt, timeoutMs, recipes: recipes.map((r) => r.id), repos: results, medians: medians(results) };
  writeFileSync(values.out, `${JSON.stringify(doc, null, 2)}\n`);
};
const startedAt = new Date().toISOString();

for (const t of targets) {
  const fig: RepoFigures = { repo: t.repo, dir: t.dir, testCommand: t.testCommand };
  results.push(fig);
  if (!existsSync(t.dir)) {
    fig.error = `no checkout at ${t.dir} (npm run corpus:prepare)`;
  } else if (t.marker && !existsSync(t.marker)) {
    fig.error = `not prepared: ${preparedReason(t)}`;
  } else {
    try {
      if (!values["no-own"]) fig.own = await measureOwn(t);
      if (!values["no-cycle"]) fig.cycle = await measureCycle(t);
      fig.ratio = ratioOf(fig);
    } catch (error) {
      fig.error = (error as Error).message.slice(0, 800);
    }
  }
  console.error(progressLine(fig));
  if (fig.cycle?.timeline && !values.json) Timeline.print(fig.repo, fig.cycle.timeline);
  save();
}
await rm(scratch, { recursive: true, force: true });
await runtime.close();

/** Why corpus:prepare left a checkout unprepared, from its report beside the checkouts. */
function preparedReason(t: Target): string {
  try {
    const report = JSON.parse(readFileSync(join(t.dir, "..", "prepare-report.json"), "utf8")) as {
      repo: string;
      dir: string;
      reason?: string;
    }[];
    const line = report.find((r) => r.dir === t.dir)?.reason ?? "no record";
    return line.replace(/\s+/g, " ").slice(0, 300);
  } catch {
    return "no prepare-report.json";
  }
}

function exitOf(r: OwnRun | undefined): string {
  if (!r) return "-";
  return r.killed ? `killed:${r.killed}` : String(r.exitCode);
}

function sec(n: number | null | undefined): string {
  return typeof n === "number" ? (n / 1000).toFixed(1) : "-";
}

function progressLine(r: RepoFigures): string {
  if (r.error) return `${r.repo}: ${r.error}`;
  const c = r.cycle;
  return (
    `${r.repo}: tsc ${sec(r.own?.tsc.durationMs)} s (exit ${exitOf(r.own?.tsc)}), tests ${sec(r.own?.tests.durationMs)} s ` +
    `(exit ${exitOf(r.own?.tests)}); cycle ${c?.status ?? "-"} ${sec(c?.durationsMs.total)} s, baseline tests ` +
    `${c?.baseline.status ?? "-"}${c?.baseline.reason ? ` (${c.baseline.reason})` : ""}, ${c?.candidates ?? 0} candidates`
  );
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

report(results, startedAt);

/** How many runs the own figures are medians of (runs measured before --own-runs had one each). */
function ownMeasured(results: readonly RepoFigures[]): string {
  const counts = [...new Set(results.map((r) => r.own?.tests.runsMs?.length ?? 1))].sort((x, y) => x - y);
  return `${counts.join(" or ")} run${counts.length === 1 && counts[0] === 1 ? "" : "s"}`;
}

function report(results: RepoFigures[], startedAt: string): void {
  if (values.json) {
    console.log(JSON.stringify({ startedAt, repos: results, medians: medians(results) }, null, 2));
  } else {
    const head = [
      "repo",
      "tsc s",
      "exit",
      "tests s",
      "exit",
      ...PHASES.map((p) => `${p} s`),
      "cands",
      "ahead",
      "test runs",
      "runs s",
      "ratio",
    ];
    const rows = results.map((r) => [
      r.repo,
      sec(r.own?.tsc.durationMs),
      exitOf(r.own?.tsc),
      sec(r.own?.tests.durationMs),
      exitOf(r.own?.tests),
      ...PHASES.map((p) => sec(r.cycle?.durationsMs[p])),
      String(r.cycle?.candidates ?? "-"),
      String(r.cycle?.work?.lintedAhead ?? "-"),
      String(r.cycle?.work?.testRuns ?? "-"),
      sec(r.cycle?.work?.testRunsMs),
      r.ratio?.toFixed(2) ?? "-",
    ]);
    const m = medians(results);
    rows.push([
      "median",
      sec(m.tscMs),
      "",
      sec(m.testsMs),
      "",
      ...PHASES.map((p) => sec(m[`cycle.${p}Ms`])),
      "",
      "",
      m["cycle.testRuns"] === null || m["cycle.testRuns"] === undefined ? "-" : String(m["cycle.testRuns"]),
      "",
      m.ratio?.toFixed(2) ?? "-",
    ]);
    console.log(table([head, ...rows]));
    console.log(
      `\nratio = cycle total / (own tsc + own tests); target: median under 3. Own tsc and tests: each the median of ${ownMeasured(results)}. Medians of cycle figures: ${m.completedCycles} completed cycles. ` +
        "observe and candidates overlap (the recipes plan while the baseline runs); ahead: candidates linted while the " +
        "baseline's tests still ran; test runs: the Verify step's runs " +
        "(groups, halves and single candidates), their time summed.",
    );
    console.log("\nbaseline tests: the repository's own test command in the sandbox vs the cycle's baseline");
    console.log(
      table([
        ["repo", "test command", "own exit", "cycle baseline", "reason"],
        ...results.map((r) => [
          r.repo,
          r.testCommand,
          exitOf(r.own?.tests),
          r.cycle?.baseline.status ?? (r.error ? "error" : "-"),
          r.error ?? r.cycle?.baseline.reason ?? "",
        ]),
      ]),
    );
  }
}
