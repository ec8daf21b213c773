import type { SandboxLimits } from "./types.js";
import { SandboxSetupError } from "./types.js";

/**
 * Defaults sized for a repository's test suite on a small worker. Node alone reserves about 1 GiB of address space
 * before running any code (V8's code range and heap reservations), so the memory limit, which is an address-space
 * limit, must stay well above that. Processes count threads too (the kernel counts tasks), and one Node process
 * holds about ten threads.
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

/** `prlimit` options enforcing the limits that the kernel can enforce per process (soft = hard, so no raising). */
export function prlimitArgs(limits: SandboxLimits, nproc: number | null): string[] {
  const mib = 1024 * 1024;
  const args = [
    `--data=${Math.floor(limits.memoryMb * mib)}`,
    `--fsize=${Math.floor(limits.maxFileMb * mib)}`,
    // Core dumps of a crashing test would land in the workspace and can be as large as the address space.
    "--core=0",
  ];
  if (nproc !== null) args.push(`--nproc=${nproc}`);
  return args;
}
