/** The files of a repository that tools may read: inside it, regular, text, not huge. */
import { existsSync } from "node:fs";
import { lstat, open, readdir, realpath } from "node:fs/promises";
import path from "node:path";
import { WorkspaceError } from "./errors.js";
import { git } from "./git.js";

export type SkipReason = "symlink-outside" | "symlink-broken" | "symlink" | "binary" | "too-large" | "not-a-file";

export interface ListedFiles {
  /** Repository-relative POSIX paths, sorted. */
  files: string[];
  skipped: { file: string; reason: SkipReason }[];
}

export interface SafeListOptions {
  /** Files larger than this are skipped. Default 1 MiB. */
  maxFileBytes?: number;
}

/** Same test git uses: a NUL byte in the first 8000 bytes marks a file as binary. */
const BINARY_PROBE_BYTES = 8000;
const LISTED_LIMIT = 200_000;

/**
 * Tracked files when `dir` is a git repository (`git ls-files`), otherwise a walk that leaves out node_modules and
 * .git. Every symlink is skipped and reported: one that leaves the repository ("symlink-outside") must never be
 * read, and one that stays inside would only list the same content twice ("symlink").
 */
export async function safeListFiles(dir: string, options: SafeListOptions = {}): Promise<ListedFiles> {
  const maxFileBytes = options.maxFileBytes ?? 1024 * 1024;
  const root = await realpath(dir);
  const candidates = existsSync(path.join(root, ".git")) ? await gitFiles(root) : await walk(root);
  const files: string[] = [];
  const skipped: ListedFiles["skipped"] = [];
  for (const file of candidates) {
    const full = path.join(root, file);
    let stat: Awaited<ReturnType<typeof lstat>>;
    try {
      stat = await lstat(full);
    } catch {
      continue; // listed by git but deleted from the working tree
    }
    if (stat.isSymbolicLink()) {
      let target: string | null = null;
      try {
        target = await realpath(full);
      } catch {
        target = null;
      }
      if (target === null) skipped.push({ file, reason: "symlink-broken" });
      else if (target !== root && !target.startsWith(`${root}/`)) skipped.push({ file, reason: "symlink-outside" });
      else skipped.push({ file, reason: "symlink" });
      continue;
    }
    if (!stat.isFile()) {
      skipped.push({ file, reason: "not-a-file" });
      continue;
    }
    // A file under a directory that is itself a symlink out of the repository.
    const parent = await realpath(path.dirname(full));
    if (parent !== root && !parent.startsWith(`${root}/`)) {
      skipped.push({ file, reason: "symlink-outside" });
      continue;
    }
    if (stat.size > maxFileBytes) {
      skipped.push({ file, reason: "too-large" });
      continue;
    }
    if (await looksBinary(full)) {
      skipped.push({ file, reason: "binary" });
      continue;
    }
    files.push(file);
  }
  files.sort();
  return { files, skipped };
}

async function gitFiles(root: string): Promise<string[]> {
  const result = await git(["ls-files", "-z", "--cached", "--full-name"], { cwd: root, timeoutMs: 60_000 });
  if (result.code !== 0) {
    throw new WorkspaceError(`git ls-files failed in ${root}: ${result.stderr.trim()}`, "list-files", root);
  }
  return result.stdout.split("\0").filter((f) => f.length > 0);
}

async function walk(root: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (out.length >= LISTED_LIMIT) return;
      if (entry.isDirectory() && (entry.name === "node_modules" || entry.name === ".git")) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await visit(full);
      else out.push(path.relative(root, full).split(path.sep).join("/"));
    }
  };
  await visit(root);
  return out;
}

async function looksBinary(file: string): Promise<boolean> {
  const handle = await open(file, "r");
  try {
    const buffer = Buffer.alloc(BINARY_PROBE_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, BINARY_PROBE_BYTES, 0);
    return buffer.subarray(0, bytesRead).includes(0);
  } finally {
    await handle.close();
  }
}
