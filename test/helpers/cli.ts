import { PassThrough } from "node:stream";
import { main } from "../../src/cli/main.js";

/** Runs `odavl <argv>` in-process with the given environment; returns the exit code and what it printed. */
export async function odavl(env: NodeJS.ProcessEnv, ...argv: string[]) {
  const out = new PassThrough();
  const err = new PassThrough();
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  out.on("data", (c: Buffer) => stdout.push(c));
  err.on("data", (c: Buffer) => stderr.push(c));
  const code = await main({
    argv,
    env,
    stdout: out as unknown as NodeJS.WriteStream,
    stderr: err as unknown as NodeJS.WriteStream,
  });
  return { code, stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8") };
}
