import { SandboxSetupError } from "./types.js";

/**
 * Variable names that must never be handed to repository code, even when a caller asks for them. The sandboxed
 * environment is built from nothing (the parent's environment is never copied), so this only guards against a
 * caller passing a secret through `options.env` by mistake.
 */
const SECRET_NAME =
  /(TOKEN|SECRET|PASSW(OR)?D|PRIVATE_?KEY|CREDENTIAL|API_?KEY|ACCESS_?KEY|_AUTH)|^(DATABASE_URL|REDIS_URL|PG[A-Z]+|GITHUB_[A-Z_]*|GH_[A-Z_]*|AWS_[A-Z_]*|NPM_CONFIG__?AUTH[A-Z_]*|APP_ID|WEBHOOK_[A-Z_]*)$/i;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const DEFAULT_SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin";

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * The complete environment of a sandboxed process: a fixed allow-list plus the caller's extras. `HOME` is the
 * private /tmp so tools that write dotfiles (npm logs, caches) neither fail nor litter the workspace.
 */
export function buildSandboxEnv(
  extra: Record<string, string> | undefined,
  base: { path: string; home: string },
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: base.path,
    HOME: base.home,
    TMPDIR: "/tmp",
    LANG: "C.UTF-8",
    TZ: "UTC",
    CI: "true",
    NODE_ENV: "test",
  };
  for (const [name, value] of Object.entries(extra ?? {})) {
    if (!NAME.test(name)) throw new SandboxSetupError(`invalid environment variable name ${JSON.stringify(name)}`);
    if (isSecretName(name)) {
      throw new SandboxSetupError(`refusing to pass ${name} into the sandbox: it looks like a credential`);
    }
    if (value.includes("\0")) throw new SandboxSetupError(`environment variable ${name} contains a NUL byte`);
    env[name] = value;
  }
  return env;
}
