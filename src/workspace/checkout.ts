/** Checking out a repository at a ref in a fresh directory. */
import { existsSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { GitError, WorkspaceError } from "./errors.js";
import { git, gitOk } from "./git.js";

export interface CheckoutOptions {
  /** A git URL (https, ssh, file) or the path of a local git repository. */
  source: string;
  /** A commit sha, branch, tag or other ref (e.g. refs/pull/1/head). Default: the source's HEAD. */
  ref?: string;
  /**
   * Directory to create; it must not exist yet, or be empty. Put it under a directory only the worker can enter
   * (see {@link createWorkspaceRoot}): sandbox runs open the workspace up for their unprivileged uid.
   */
  dest: string;
  /**
   * An HTTP header sent to https remotes, e.g. `Authorization: Basic …` built from an installation token. It is
   * given to git for the clone and fetch commands only and is never written to disk.
   */
  authHeader?: string;
  /** Shallow clone of this depth (remote sources and branch or tag refs only). */
  depth?: number;
  timeoutMs?: number;
}

export interface CheckoutResult {
  dir: string;
  /** Full sha of the checked-out commit. */
  sha: string;
  ref: string;
  durationMs: number;
}

/** A fresh directory (mode 0700) to hold workspaces: only the worker can enter it. */
export async function createWorkspaceRoot(prefix = "odavl-ws-"): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const SCP_LIKE = /^[^/@:]+@[^/:]+:/;

/** The source as a URL without credentials, and the credentials it carried (moved into a header). */
function splitCredentials(source: string): { url: string; header: string | null } {
  if (!/^https?:\/\//i.test(source)) return { url: source, header: null };
  const url = new URL(source);
  if (!url.username && !url.password) return { url: source, header: null };
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  url.username = "";
  url.password = "";
  const basic = Buffer.from(`${user}:${pass}`).toString("base64");
  return { url: url.toString(), header: `Authorization: Basic ${basic}` };
}

/** For messages: a source with any credentials removed. */
function redactSource(source: string): string {
  return source.replace(/^(https?:\/\/)[^@/]*@/i, "$1");
}

export async function checkout(options: CheckoutOptions): Promise<CheckoutResult> {
  const start = performance.now();
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  const target = redactSource(options.source);
  const dest = path.resolve(options.dest);
  if (existsSync(dest)) {
    if (!statSync(dest).isDirectory() || (await readdir(dest)).length > 0) {
      throw new WorkspaceError(`checkout destination ${dest} exists and is not empty`, "checkout", dest);
    }
  } else {
    await mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
  }

  if (options.ref !== undefined && !/^[A-Za-z0-9._/@{}^~+-]+$/.test(options.ref)) {
    throw new WorkspaceError(`invalid ref ${JSON.stringify(options.ref)}`, "checkout", target);
  }
  if (options.ref?.startsWith("-") || options.source.startsWith("-")) {
    throw new WorkspaceError("a ref or source may not start with '-'", "checkout", target);
  }
  const isLocal = !SCHEME.test(options.source) && !SCP_LIKE.test(options.source);
  let url = options.source;
  let header = options.authHeader ?? null;
  if (isLocal) {
    url = path.resolve(options.source);
    if (!existsSync(url)) throw new WorkspaceError(`local source ${url} does not exist`, "checkout", url);
  } else {
    const split = splitCredentials(options.source);
    url = split.url;
    header ??= split.header;
  }
  if (header !== null && /[\r\n]/.test(header)) {
    throw new WorkspaceError("auth header contains a line break", "checkout", target);
  }
  const secretConfig: Record<string, string> = header ? { "http.extraHeader": header } : {};
  const gitOptions = { cwd: os.tmpdir(), timeoutMs, target, secretConfig };

  try {
    const cloneArgs = ["clone", "--quiet", "--no-checkout", "--template=", "--no-recurse-submodules"];
    // Local sources: --no-hardlinks copies the object files. The default hard links would share inodes with the
    // source repository, so anything that changed the workspace's object files (a sandbox run, whose uid gets
    // write access to the workspace) would change the source too. --shared would make the workspace depend on
    // the source's object directory, which the sandbox does not expose.
    if (isLocal) cloneArgs.push("--no-hardlinks");
    const shallow = options.depth !== undefined && !isLocal && options.ref !== undefined && !isSha(options.ref);
    if (shallow && options.ref !== undefined) {
      cloneArgs.push("--depth", String(options.depth), "--branch", options.ref);
    }
    cloneArgs.push("--", url, dest);
    await gitOk(cloneArgs, { ...gitOptions, operation: "clone" });

    const inRepo = { ...gitOptions, cwd: dest };
    const sha = await resolveRef(options.ref ?? "HEAD", inRepo, timeoutMs);
    await gitOk(["checkout", "--quiet", "--force", "--detach", sha], { ...inRepo, operation: "checkout" });

    // Never keep a URL with credentials as the remote, even though the header was not persisted.
    await gitOk(["remote", "set-url", "origin", isLocal ? url : redactSource(url)], {
      ...inRepo,
      secretConfig: {},
      operation: "remote set-url",
    });
    await assertNoCredentials(dest, header, options.source);
    return { dir: dest, sha, ref: options.ref ?? "HEAD", durationMs: Math.round(performance.now() - start) };
  } catch (error) {
    await rm(dest, { recursive: true, force: true });
    throw error;
  }
}

function isSha(ref: string): boolean {
  return /^[0-9a-f]{7,64}$/i.test(ref);
}

async function resolveRef(
  ref: string,
  options: { cwd: string; timeoutMs: number; target: string; secretConfig: Record<string, string> },
  timeoutMs: number,
): Promise<string> {
  const candidates = [ref, `refs/remotes/origin/${ref}`, `refs/tags/${ref}`];
  for (const candidate of candidates) {
    const result = await git(
      ["rev-parse", "--verify", "--quiet", "--end-of-options", `${candidate}^{commit}`],
      options,
    );
    if (result.code === 0) return result.stdout.trim();
  }
  // Not among the cloned refs: a pull-request ref or a commit no branch points at. Fetch it by name.
  const fetched = await git(["fetch", "--quiet", "--no-tags", "origin", "--end-of-options", ref], {
    ...options,
    timeoutMs,
  });
  if (fetched.code === 0) {
    const head = await git(["rev-parse", "--verify", "--quiet", "FETCH_HEAD^{commit}"], options);
    if (head.code === 0) return head.stdout.trim();
  }
  throw new GitError(`ref ${ref} not found in ${options.target}`, "resolve-ref", options.target, fetched.stderr);
}

/**
 * Fails when a credential made it into the repository's metadata: the header, the password of a URL with
 * credentials, or an extraheader setting.
 */
async function assertNoCredentials(dir: string, header: string | null, source: string): Promise<void> {
  const secrets: string[] = [];
  if (header) secrets.push(header.replace(/^[^:]*:\s*/, "").replace(/^(basic|bearer|token)\s+/i, ""));
  if (/^https?:\/\//i.test(source)) {
    const url = new URL(source);
    if (url.password) secrets.push(decodeURIComponent(url.password));
  }
  const gitDir = path.join(dir, ".git");
  const files = ["config", "FETCH_HEAD", "packed-refs", "HEAD", "ORIG_HEAD"].map((f) => path.join(gitDir, f));
  files.push(...(await listFiles(path.join(gitDir, "logs"))));
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch {
      continue;
    }
    const leaked = /extraheader/i.test(text) || secrets.some((s) => s.length > 0 && text.includes(s));
    if (leaked) {
      throw new WorkspaceError(
        `a credential was left in ${path.relative(dir, file)}; the checkout was removed`,
        "checkout",
        redactSource(source),
      );
    }
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}
