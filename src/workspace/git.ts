/** Running git on repository data we do not trust: no hooks, no system or user configuration, no prompts. */
import os from "node:os";
import { GitError } from "./errors.js";
import { type ExecResult, execTool, networkEnv, tail, toolPath } from "./exec.js";

/**
 * Configuration given on every git command line. Hooks would run code from the repository or from a template;
 * fsmonitor is a command git would run; both are switched off whatever any configuration says.
 */
const SAFE_CONFIG = [
  "-c",
  "core.hooksPath=/dev/null",
  "-c",
  "core.fsmonitor=false",
  "-c",
  "advice.detachedHead=false",
  "-c",
  "init.defaultBranch=main",
];

export interface GitOptions {
  cwd: string;
  timeoutMs: number;
  /**
   * Configuration for this one command that must not be visible to other users: passed through GIT_CONFIG_COUNT
   * (the environment equivalent of `-c`: command scope, never written to any config file) rather than on the
   * command line, which every user on the host can read in /proc.
   */
  secretConfig?: Record<string, string>;
}

function gitEnv(secretConfig: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    ...networkEnv(),
    PATH: toolPath(),
    HOME: os.tmpdir(),
    LANG: "C",
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "/bin/false",
    SSH_ASKPASS: "/bin/false",
    GIT_SSH_COMMAND: "ssh -o BatchMode=yes",
  };
  const entries = Object.entries(secretConfig);
  if (entries.length > 0) {
    env.GIT_CONFIG_COUNT = String(entries.length);
    entries.forEach(([key, value], i) => {
      env[`GIT_CONFIG_KEY_${i}`] = key;
      env[`GIT_CONFIG_VALUE_${i}`] = value;
    });
  }
  return env;
}

export async function git(args: readonly string[], options: GitOptions): Promise<ExecResult> {
  try {
    return await execTool("git", [...SAFE_CONFIG, ...args], {
      cwd: options.cwd,
      env: gitEnv(options.secretConfig),
      timeoutMs: options.timeoutMs,
    });
  } catch (error) {
    throw new GitError(`cannot run git in ${options.cwd}: ${(error as Error).message}`, "exec", options.cwd, "");
  }
}

/** Runs git and throws a {@link GitError} naming the operation and target when it fails. */
export async function gitOk(
  args: readonly string[],
  options: GitOptions & { operation: string; target: string },
): Promise<string> {
  const result = await git(args, options);
  if (result.timedOut) {
    throw new GitError(
      `git ${options.operation} timed out after ${options.timeoutMs} ms on ${options.target}`,
      options.operation,
      options.target,
      tail(result.stderr),
    );
  }
  if (result.code !== 0) {
    throw new GitError(
      `git ${options.operation} failed on ${options.target}: ${tail(result.stderr.trim(), 500)}`,
      options.operation,
      options.target,
      tail(result.stderr),
    );
  }
  return result.stdout;
}
