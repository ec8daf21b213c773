/**
 * Start-up of the command line: median wall time of `odavl --version`, `odavl cycle --help` and an argument error
 * (`odavl cycle <missing path>`), each a fresh `node bin/odavl.js` process, from the TypeScript sources (tsx) and,
 * when `dist/` is built and in step with `src/`, from the build. For reference, a bare `node -e 0`.
 *
 *   npm run bench:cli [-- --runs 15]
 */
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { median } from "./stats.js";

const { values } = parseArgs({ options: { runs: { type: "string", default: "11" } } });
const RUNS = Number(values.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs must be a positive integer, got "${values.runs}"`);

const ROOT = resolve(import.meta.dirname, "..");
const BIN = join(ROOT, "bin", "odavl.js");

function time(args: string[], env: NodeJS.ProcessEnv, expectCode: number): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== expectCode) {
    throw new Error(`${args.join(" ")}: exit ${r.status}, expected ${expectCode}\n${r.stdout}${r.stderr}`);
  }
  return ms;
}

function measure(label: string, args: string[], env: NodeJS.ProcessEnv, expectCode: number): void {
  time(args, env, expectCode); // warm the file system cache and tsx's compile cache
  const samples = Array.from({ length: RUNS }, () => time(args, env, expectCode));
  const s = [...samples].sort((a, b) => a - b);
  console.log(
    `${label.padEnd(44)} median ${median(samples).toFixed(0).padStart(5)} ms   min ${(s[0] ?? 0).toFixed(0).padStart(5)} ms   max ${(s.at(-1) ?? 0).toFixed(0).padStart(5)} ms`,
  );
}

function distFresh(): boolean {
  try {
    return statSync(join(ROOT, "dist", "cli", "main.js")).mtimeMs > 0;
  } catch {
    return false;
  }
}

console.log(
  `odavl start-up, ${RUNS} runs each (node ${process.version}, ${cpus().length} CPUs, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")})`,
);
measure("node -e 0 (reference)", ["-e", "0"], {}, 0);
const cases: [string, string[], number][] = [
  ["--version", ["--version"], 0],
  ["cycle --help", ["cycle", "--help"], 0],
  ["argument error (cycle /nonexistent)", ["cycle", "/nonexistent/odavl-bench"], 2],
];
for (const [label, args, code] of cases) measure(`sources: ${label}`, [BIN, ...args], { ODAVL_FROM_SOURCE: "1" }, code);
if (distFresh()) {
  // bin/odavl.js decides whether dist/ is in step with src/; ODAVL_FROM_SOURCE unset lets it.
  for (const [label, args, code] of cases) measure(`launcher (dist when fresh): ${label}`, [BIN, ...args], {}, code);
} else {
  console.log("dist/: not built (npm run build), so only the sources were measured");
}
