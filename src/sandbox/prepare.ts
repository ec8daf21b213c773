/** Host-side preparation of a privileged-mode run: uids, generated /etc files, workspace permissions. */
import { randomInt } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { chmod, lstat, mkdtemp, readdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/**
 * Run uids come from a range no login user or rootless-container mapping uses. A fresh uid per run gives each run
 * its own RLIMIT_NPROC budget (the kernel counts processes per uid), so a fork bomb in one run cannot starve a run
 * next to it, and processes of different runs cannot signal each other.
 */
const UID_BASE = 1_900_000_000;
const UID_SPAN = 1_000_000;
const inUse = new Set<number>();

export function allocateUid(): number {
  for (;;) {
    const uid = UID_BASE + randomInt(UID_SPAN);
    if (!inUse.has(uid)) {
      inUse.add(uid);
      return uid;
    }
  }
}

export function releaseUid(uid: number): void {
  inUse.delete(uid);
}

/** Writes the sandbox's /etc files into a fresh private directory and returns its path. */
export async function writeEtcDir(uid: number, gid: number): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "odavl-sandbox-etc-"));
  const files: Record<string, string> = {
    passwd: [
      "root:x:0:0:root:/root:/usr/sbin/nologin",
      `sandbox:x:${uid}:${gid}:sandbox:/tmp:/bin/sh`,
      "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
      "",
    ].join("\n"),
    group: ["root:x:0:", `sandbox:x:${gid}:`, "nogroup:x:65534:", ""].join("\n"),
    hosts: "127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    "nsswitch.conf": "passwd: files\ngroup: files\nshadow: files\nhosts: files\nnetworks: files\n",
    // The workspace belongs to the worker's uid, not the run's; without this git refuses to work in it.
    gitconfig: "[safe]\n\tdirectory = *\n",
    empty: "",
  };
  await Promise.all(Object.entries(files).map(([name, content]) => writeFile(path.join(dir, name), content)));
  return dir;
}

/**
 * Makes a workspace writable by the run's uid without changing ownership: directories a+rwx, files a+rw (the
 * executable bits are kept; set-id and sticky bits are cleared, a sticky directory would stop one run's uid from
 * replacing another run's files). Ownership stays with the worker, so its own git commands keep working
 * (git refuses repositories owned by another user), and a mode change is invisible to git, which only tracks the
 * executable bit. Symlinks are never followed. A `node_modules` directory is opened up but not descended into:
 * installed packages only need to be readable, and walking them on every run would be slow. The top-level `.git`
 * is left as it is: the sandbox binds it read-only.
 * The workspace should sit under a directory only the worker can enter (checkout creates it so).
 */
export async function makeTreeWritable(root: string): Promise<void> {
  const visit = async (dir: string, depth: number): Promise<void> => {
    const stat = await lstat(dir);
    if (!stat.isDirectory()) return;
    if ((stat.mode & 0o7777) !== 0o777) await chmod(dir, 0o777);
    if (depth > 0 && path.basename(dir) === "node_modules") return;
    const entries = await readdir(dir, { withFileTypes: true });
    await Promise.all(
      entries.map(async (entry) => {
        // Runs never write the git directory (it is bound read-only), so it keeps its modes.
        if (depth === 0 && entry.name === ".git") return;
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) return visit(full, depth + 1);
        if (!entry.isFile()) return;
        const fileStat = await lstat(full);
        if ((fileStat.mode & 0o7666) !== 0o666) await chmod(full, (fileStat.mode & 0o777) | 0o666);
      }),
    );
  };
  await visit(root, 0);
}

/**
 * Number of tasks (processes and threads) the current user runs. In user-namespace mode RLIMIT_NPROC counts all of
 * them, so a run's budget is added on top of this.
 */
export function countOwnTasks(): number {
  const uid = process.getuid?.() ?? -1;
  let total = 0;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, "utf8");
      const uidLine = /^Uid:\s+(\d+)/m.exec(status);
      const threads = /^Threads:\s+(\d+)/m.exec(status);
      if (uidLine && Number(uidLine[1]) === uid) total += threads ? Number(threads[1]) : 1;
    } catch {
      // the process ended while we looked
    }
  }
  return total;
}
