import type { SandboxLimits } from "./types.js";
import { SandboxSetupError } from "./types.js";

/**
 * Defaults sized for a repository's test suite on a small worker: a test runner and its workers together stay
 * well under 4 GiB of memory. The memory limit is never an address-space limit (RLIMIT_AS): Node reserves about
 * 1 GiB before running any code and every WebAssembly memory reserves 8 GiB more, none of it used, and vitest or
 * jest under such a limit die at start. Processes count threads too (the kernel counts tasks), and one Node
 * process holds about ten threads.
 */
export const DEFAULT_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  timeoutMs: 10 * 60_000,
  memoryMb: 4096,
  maxProcesses: 256,
  maxOutputBytes: 1024 * 1024,
  maxFileMb: 256,
});

/** Past this multiple of `maxOutputBytes` on one stream, a run is judged to be flooding and is stopped. */
export const OUTPUT_FLOOD_FACTOR = 10;

export function resolveLimits(...layers: (Partial<SandboxLimits> | undefined)[]): SandboxLimits {
  const merged: SandboxLimits = { ...DEFAULT_LIMITS };
  for (const layer of layers) {
    if (!layer) continue;
    for (const key of Object.keys(merged) as (keyof SandboxLimits)[]) {
      const value = layer[key];
      if (value !== undefined) merged[key] = value;
    }
  }
  for (const [key, value] of Object.entries(merged)) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new SandboxSetupError(`sandbox limit ${key} must be a positive number, got ${String(value)}`);
    }
  }
  return merged;
}

/**
 * `prlimit` options enforcing the limits that the kernel can enforce per process (soft = hard, so no raising).
 * RLIMIT_DATA counts the private writable memory a process maps (Linux 4.7 and later), not the regions V8 only
 * reserves; the run as a whole is bounded in memory.ts.
 */
export function prlimitArgs(limits: SandboxLimits, nproc: number | null): string[] {
  const mib = 1024 * 1024;
  const args = [
    `--data=${Math.floor(limits.memoryMb * mib)}`,
    `--fsize=${Math.floor(limits.maxFileMb * mib)}`,
    // Core dumps of a crashing test would land in the workspace and can be as large as the process's memory.
    "--core=0",
  ];
  if (nproc !== null) args.push(`--nproc=${nproc}`);
  return args;
}
