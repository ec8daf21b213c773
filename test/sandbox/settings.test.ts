/** The sandbox's settings: read and checked at start-up, with the defaults the docs list. */
import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { ConfigError, readEnv } from "../../src/config/env.js";
import { DEFAULT_LIMITS } from "../../src/sandbox/index.js";

describe("SANDBOX_* settings", () => {
  it("default to the sandbox's own limits", () => {
    const env = readEnv({});
    expect({
      timeoutMs: env.SANDBOX_TIMEOUT_MS,
      memoryMb: env.SANDBOX_MEMORY_MB,
      maxProcesses: env.SANDBOX_MAX_PROCESSES,
      maxFileMb: env.SANDBOX_MAX_FILE_MB,
      maxOutputBytes: env.SANDBOX_MAX_OUTPUT_BYTES,
    }).toEqual(DEFAULT_LIMITS);
    expect(env.SANDBOX_TMP_MB).toBe(1024);
    expect(env.SANDBOX_PARALLEL_RUNS).toBe(Math.min(2, availableParallelism()));
    expect(env.SANDBOX_TOOLCHAIN_DIR).toBeUndefined();
  });

  it("are read from the environment", () => {
    const env = readEnv({
      SANDBOX_MAX_FILE_MB: "64",
      SANDBOX_MAX_OUTPUT_BYTES: "4096",
      SANDBOX_TMP_MB: "128",
      SANDBOX_TOOLCHAIN_DIR: "/var/cache/tc",
      SANDBOX_PARALLEL_RUNS: "4",
    });
    expect(env.SANDBOX_PARALLEL_RUNS).toBe(4);
    expect([env.SANDBOX_MAX_FILE_MB, env.SANDBOX_MAX_OUTPUT_BYTES, env.SANDBOX_TMP_MB]).toEqual([64, 4096, 128]);
    expect(env.SANDBOX_TOOLCHAIN_DIR).toBe("/var/cache/tc");
  });

  it("refuse a bad value, naming the variable", () => {
    expect(() => readEnv({ SANDBOX_MAX_FILE_MB: "0" })).toThrow(ConfigError);
    expect(() => readEnv({ SANDBOX_MAX_FILE_MB: "0" })).toThrow(/SANDBOX_MAX_FILE_MB/);
    expect(() => readEnv({ SANDBOX_TMP_MB: "lots" })).toThrow(/SANDBOX_TMP_MB/);
    expect(() => readEnv({ SANDBOX_PARALLEL_RUNS: "0" })).toThrow(/SANDBOX_PARALLEL_RUNS/);
  });
});
