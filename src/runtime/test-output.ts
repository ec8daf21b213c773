/**
 * Reading a test run's output: how many tests ran, passed and failed (each runner prints its own summary), and,
 * when the run did not count, one line a maintainer can act on.
 */
import type { SandboxResult } from "../sandbox/index.js";
import type { TestRunner } from "../workspace/index.js";

export interface TestCounts {
  runner: TestRunner | null;
  passed: number | null;
  failed: number | null;
  /** The runner said it found no test files (or none related to the given files). */
  noTests: boolean;
}

const ANSI = new RegExp(["\\u001b\\[[0-?]*[ -/]*[@-~]", "\\u001b\\][^\\u0007]*(?:\\u0007|\\u001b\\\\)"].join("|"), "g");

export function plainOutput(r: Pick<SandboxResult, "stdout" | "stderr">): string {
  return `${r.stdout}\n${r.stderr}`.replace(ANSI, "");
}

const num = (m: RegExpExecArray | null, i = 1): number | null => (m?.[i] === undefined ? null : Number(m[i]));

/** Each runner's summary; tried in the order given, the named runner first. */
const PARSERS: Record<TestRunner, (out: string) => TestCounts | null> = {
  vitest(out) {
    const noTests = /No test files found/.test(out);
    const line = /^\s*Tests\s+(.*\(\d+\))\s*$/m.exec(out)?.[1];
    if (!line) return noTests ? { runner: "vitest", passed: 0, failed: 0, noTests } : null;
    return {
      runner: "vitest",
      passed: num(/(\d+) passed/.exec(line)) ?? 0,
      failed: num(/(\d+) failed/.exec(line)) ?? 0,
      noTests,
    };
  },
  jest(out) {
    const noTests = /No tests found/.test(out);
    const line = /^Tests:\s+(.*\d+ total)\s*$/m.exec(out)?.[1];
    if (!line) return noTests ? { runner: "jest", passed: 0, failed: 0, noTests } : null;
    return {
      runner: "jest",
      passed: num(/(\d+) passed/.exec(line)) ?? 0,
      failed: num(/(\d+) failed/.exec(line)) ?? 0,
      noTests,
    };
  },
  mocha(out) {
    const passing = num(/^\s*(\d+) passing\b/m.exec(out));
    const failing = num(/^\s*(\d+) failing\b/m.exec(out));
    if (passing === null && failing === null) return null;
    return { runner: "mocha", passed: passing ?? 0, failed: failing ?? 0, noTests: false };
  },
  node(out) {
    // TAP ("# pass 3") when stdout is not a terminal, as in the sandbox; the spec reporter ("ℹ pass 3") otherwise.
    const pass = num(/^(?:#|ℹ) pass (\d+)\s*$/m.exec(out));
    const fail = num(/^(?:#|ℹ) fail (\d+)\s*$/m.exec(out));
    if (pass === null && fail === null) return null;
    const tests = num(/^(?:#|ℹ) tests (\d+)\s*$/m.exec(out));
    return { runner: "node", passed: pass ?? 0, failed: fail ?? 0, noTests: tests === 0 };
  },
  ava(out) {
    const passed = num(/^\s*(\d+) tests? passed/m.exec(out));
    const failed = num(/^\s*(\d+) tests? failed/m.exec(out));
    const noTests = /Couldn[’']t find any files to test/.test(out);
    if (passed === null && failed === null) return noTests ? { runner: "ava", passed: 0, failed: 0, noTests } : null;
    return { runner: "ava", passed: passed ?? 0, failed: failed ?? 0, noTests };
  },
};

export function parseTestCounts(output: string, runner: TestRunner | null): TestCounts | null {
  const order = [...new Set([...(runner ? [runner] : []), "vitest", "jest", "node", "mocha", "ava"] as TestRunner[])];
  for (const r of order) {
    const counts = PARSERS[r](output);
    if (counts) return counts;
  }
  return null;
}

/**
 * The test files a vitest or jest run reports as failed (` FAIL  test/a.test.ts > case`, `FAIL src/b.spec.ts
 * (1.2 s)`), as printed (relative to where the runner ran); null for other runners or when the output names none.
 */
export function failedTestFiles(output: string, runner: TestRunner | null): string[] | null {
  if (runner !== "vitest" && runner !== "jest") return null;
  const files = new Set<string>();
  for (const m of output.matchAll(/^\s*FAIL\s+(.+)$/gm)) {
    // vitest: "[|project| ]file[ > suite > case]" or "file [ file ]"; jest: "[project ]file[ (1.2 s)]".
    const words = ((m[1] as string).split(" > ")[0] ?? "").trim().split(/\s+/);
    const file = words.find((w) => /\.[cm]?[jt]sx?$/.test(w));
    if (file && !file.startsWith("/") && !file.split("/").includes("..")) files.add(file);
  }
  return files.size > 0 ? [...files].sort() : null;
}

/** The sandbox's limit behind a kill cause, for the reason line. */
export interface KnownLimits {
  timeoutMs: number;
  memoryMb?: number;
  maxProcesses?: number;
}

/**
 * Why a run that did not pass did not: the sandbox's kill with its limit, a missing tool, a TypeScript config the
 * runner cannot load, a missing module, or the failed count; the first error line otherwise.
 */
export function explainFailure(r: SandboxResult, runner: TestRunner | null, limits: KnownLimits): string {
  if (r.killed) {
    const limit =
      r.killed === "timeout"
        ? ` (limit ${formatDuration(limits.timeoutMs)})`
        : r.killed === "memory" && limits.memoryMb
          ? ` (limit ${limits.memoryMb} MB)`
          : r.killed === "processes" && limits.maxProcesses
            ? ` (limit ${limits.maxProcesses})`
            : "";
    return `stopped by the sandbox: ${r.killed}${limit}`;
  }
  const out = plainOutput(r);
  const missing =
    /(?:^|\n)(?:sh|bash)?:?\s*(?:\d+:\s*)?([\w@./-]+): (?:command )?not found/.exec(out)?.[1] ??
    /spawn ([\w@./-]+) ENOENT/.exec(out)?.[1];
  if (missing) return `the test command calls ${missing.split("/").pop()}, which is not available`;
  if (/'ts-node' is required for the TypeScript configuration files/.test(out)) {
    const config = /(jest\.config\.[cm]?ts)/.exec(out)?.[1] ?? "jest.config.ts";
    return `${config} needs ts-node, which is not installed (or Node 22.6+ to load it without)`;
  }
  if (/ERR_UNKNOWN_FILE_EXTENSION[^\n]*\.[cm]?ts/.test(out)) {
    return `the tests load .ts files with plain Node ${process.versions.node}, which cannot (Node 22.6+ strips types, or a loader such as tsx)`;
  }
  const engine = /requires? (?:Node(?:\.js)?|node) (?:version )?(?:v)?([<>=^~]*\s*\d+[\d.]*(?:\s*\|\|[^\n]*)?)/i.exec(
    out,
  );
  if (engine?.[1]) return `the tests need Node ${engine[1].trim()} (running ${process.versions.node})`;
  const module = /Cannot find (?:module|package) '([^']+)'/.exec(out)?.[1];
  const counts = parseTestCounts(out, runner);
  if (counts && (counts.failed ?? 0) > 0) return `${counts.failed} failed (${counts.runner})`;
  if (counts?.noTests) return `no test files found (${counts.runner})`;
  if (module) return `a module the tests import is missing: ${module.split("/node_modules/").pop()}`;
  const first = out.split("\n").find((l) => /(Error|\berror|ERR_[A-Z_]+|\bFAIL)\b/.test(l));
  return `exit code ${r.exitCode ?? r.signal}${first ? `: ${first.trim().slice(0, 200)}` : ""}`;
}

function formatDuration(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}
