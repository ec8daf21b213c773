/** `odavl web` as a real process against real Postgres and Redis, and a throwaway Redis server of a test's own. */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { waitFor } from "../queue/helpers.js";

export const ROOT = resolve(import.meta.dirname, "../..");

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
    server.on("error", fail);
  });
}

export interface RunningProcess {
  child: ChildProcess;
  output(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

function startProcess(args: string[], env: Record<string, string>): RunningProcess {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Starts `odavl web` and waits until it serves webhooks. */
export async function startWeb(env: Record<string, string>): Promise<RunningProcess> {
  const web = startProcess(["bin/odavl.js", "web"], { LOG_LEVEL: "info", ...env });
  await waitFor(
    async () => web.output().includes("serving webhooks") || web.child.exitCode !== null,
    90_000,
    "odavl web to start",
  );
  if (web.child.exitCode !== null) throw new Error(`odavl web exited ${web.child.exitCode}\n${web.output()}`);
  return web;
}

/** A redis-server of the test's own (never the shared one): no persistence, on a free port. */
export async function startThrowawayRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  await waitFor(async () => output.includes("Ready to accept connections"), 20_000, `redis-server to start\n${output}`);
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
