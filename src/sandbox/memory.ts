/**
 * The memory limit of a whole run. A per-process limit (RLIMIT_DATA, see limits.ts) cannot bound a run: test
 * runners fork workers, and each inherits its own limit. Two ways to bound the sum, best first:
 * - a cgroup v2 of its own with `memory.max` (and no swap), where the host delegates the memory controller to us;
 *   the kernel then counts every page the run uses, and an OOM kill shows in `memory.events`;
 * - otherwise a watchdog: the supervisor samples the resident memory of the run's processes every
 *   {@link WATCHDOG_INTERVAL_MS} and kills the run past the limit. It counts anonymous and shared-memory pages
 *   (`RssAnon` + `RssShmem`), the memory a process asked for; pages mapped from files (the node binary, libraries)
 *   are shared between the processes and can be dropped by the kernel at any time, so they are left out.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import path from "node:path";

export const WATCHDOG_INTERVAL_MS = 250;

/** Which processes belong to a run: all of one uid (privileged mode, a fresh uid per run), or a process tree. */
export type MemoryScope = { kind: "uid"; uid: number } | { kind: "tree"; rootPid: number };

export interface MemorySample {
  /** Anonymous and shared-memory resident bytes of the run's processes, summed. */
  bytes: number;
  pids: number[];
}

interface ProcEntry {
  pid: number;
  ppid: number;
  uid: number;
  bytes: number;
}

/** The fields of /proc/<pid>/status read here, in one pass (a sample reads every process's, four times a second). */
const STATUS_FIELDS = /^(PPid|Uid|VmRSS|RssAnon|RssShmem):\s+(\d+)/gm;

function readProcEntry(pid: number): ProcEntry | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null; // ended while we looked
  }
  const fields: Record<string, number> = {};
  for (const m of status.matchAll(STATUS_FIELDS)) fields[m[1] as string] = Number(m[2]);
  const anon = fields.RssAnon;
  // Kernels before 4.5 have no RssAnon: the whole resident set is the closest there is.
  const kb = anon === undefined ? (fields.VmRSS ?? 0) : anon + (fields.RssShmem ?? 0);
  return { pid, ppid: fields.PPid ?? 0, uid: fields.Uid ?? -1, bytes: kb * 1024 };
}

function listPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) if (/^\d+$/.test(name)) pids.push(Number(name));
  return pids;
}

/**
 * How long one look at every process serves the watchdogs of other runs: runs at once (the type checker and the
 * test lanes) share a look instead of each reading every process's status four times a second.
 */
const SHARED_LOOK_MS = Math.floor(WATCHDOG_INTERVAL_MS / 2);
let lastLook: { at: number; entries: ProcEntry[] } | null = null;

/** Every process's entry, from a look at /proc no older than {@link SHARED_LOOK_MS}. */
function lookAtProcesses(now = performance.now()): ProcEntry[] {
  if (lastLook !== null && now - lastLook.at <= SHARED_LOOK_MS) return lastLook.entries;
  const entries: ProcEntry[] = [];
  for (const pid of listPids()) {
    const entry = readProcEntry(pid);
    if (entry) entries.push(entry);
  }
  lastLook = { at: now, entries };
  return entries;
}

/** One look at /proc (maybe shared with other runs' watchdogs): the run's processes and their memory. */
export function sampleMemory(scope: MemoryScope, now?: number): MemorySample {
  const entries = lookAtProcesses(now);
  if (scope.kind === "uid") {
    let bytes = 0;
    const pids: number[] = [];
    for (const entry of entries) {
      if (entry.uid !== scope.uid) continue;
      bytes += entry.bytes;
      pids.push(entry.pid);
    }
    return { bytes, pids };
  }
  const children = new Map<number, ProcEntry[]>();
  const byPid = new Map<number, ProcEntry>();
  for (const entry of entries) {
    byPid.set(entry.pid, entry);
    const list = children.get(entry.ppid);
    if (list) list.push(entry);
    else children.set(entry.ppid, [entry]);
  }
  const root = byPid.get(scope.rootPid);
  if (!root) return { bytes: 0, pids: [] };
  let bytes = 0;
  const pids: number[] = [];
  const queue = [root];
  for (let entry = queue.pop(); entry; entry = queue.pop()) {
    bytes += entry.bytes;
    pids.push(entry.pid);
    queue.push(...(children.get(entry.pid) ?? []));
  }
  return { bytes, pids };
}

export interface CgroupSupport {
  /** The cgroup runs are created under, when the memory controller is ours to use. */
  parent: string | null;
  /** Why not, when not. */
  reason: string | null;
}

let cgroupSupport: CgroupSupport | null = null;

/**
 * Whether runs can get a cgroup v2 with a memory limit: the unified hierarchy is mounted, our cgroup offers the
 * memory controller to its children (or lets us turn it on), and we may create a child. Cached.
 */
export function detectCgroupMemory(): CgroupSupport {
  cgroupSupport ??= probeCgroup();
  return cgroupSupport;
}

function probeCgroup(): CgroupSupport {
  let mount: string | null = null;
  try {
    for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
      // "36 25 0:30 / /sys/fs/cgroup rw,... shared:9 - cgroup2 cgroup2 rw"
      const [left, right] = line.split(" - ");
      if (right?.startsWith("cgroup2 ") && left) {
        mount = left.split(" ")[4] ?? null;
        break;
      }
    }
  } catch {
    return { parent: null, reason: "cannot read /proc/self/mountinfo" };
  }
  if (!mount) return { parent: null, reason: "no cgroup v2 hierarchy is mounted" };
  let own: string | null = null;
  try {
    own = /^0::(.*)$/m.exec(readFileSync("/proc/self/cgroup", "utf8"))?.[1] ?? null;
  } catch {
    // unreadable: same answer as missing
  }
  if (own === null) return { parent: null, reason: "this process has no cgroup v2 membership" };
  const dir = path.join(mount, own);
  const read = (file: string) => {
    try {
      return readFileSync(path.join(dir, file), "utf8").trim().split(/\s+/);
    } catch {
      return [];
    }
  };
  if (!read("cgroup.controllers").includes("memory")) {
    return { parent: null, reason: `the memory controller is not delegated to ${dir}` };
  }
  if (!read("cgroup.subtree_control").includes("memory")) {
    try {
      writeFileSync(path.join(dir, "cgroup.subtree_control"), "+memory");
    } catch (error) {
      // Typically EBUSY: a cgroup with processes of its own cannot hand controllers to children.
      return { parent: null, reason: `cannot enable the memory controller in ${dir}: ${(error as Error).message}` };
    }
  }
  const probe = path.join(dir, `odavl-probe-${process.pid}`);
  try {
    mkdirSync(probe);
    const usable = existsSync(path.join(probe, "memory.max"));
    rmdirSync(probe);
    if (!usable) return { parent: null, reason: `a child of ${dir} gets no memory.max` };
  } catch (error) {
    return { parent: null, reason: `cannot create a cgroup under ${dir}: ${(error as Error).message}` };
  }
  return { parent: dir, reason: null };
}

/** A cgroup of one run. The run's first process moves itself in (see {@link RunCgroup.wrap}) before it starts. */
export interface RunCgroup {
  dir: string;
  /** Command line that enters the cgroup, then runs `file args`. */
  wrap(file: string, args: readonly string[]): { file: string; args: string[] };
  /** True when the kernel killed a process of the run for exceeding memory.max. */
  oomKilled(): boolean;
  /** Kills whatever is left in it and removes it. */
  remove(): Promise<void>;
}

export function createRunCgroup(parent: string, limitBytes: number): RunCgroup {
  const dir = path.join(parent, `odavl-run-${randomBytes(6).toString("hex")}`);
  mkdirSync(dir);
  writeFileSync(path.join(dir, "memory.max"), String(limitBytes));
  try {
    // Swap would let a run hold more than the limit, only slower.
    writeFileSync(path.join(dir, "memory.swap.max"), "0");
  } catch {
    // no swap accounting on this kernel: no swap to limit either
  }
  const procs = path.join(dir, "cgroup.procs");
  return {
    dir,
    wrap(file, args) {
      // The shell writes its own pid, then becomes the command, so every process of the run starts inside.
      return { file: "/bin/sh", args: ["-c", 'echo $$ > "$0" && exec "$@"', procs, file, ...args] };
    },
    oomKilled() {
      try {
        const m = /^oom_kill\s+(\d+)/m.exec(readFileSync(path.join(dir, "memory.events"), "utf8"));
        return m !== null && Number(m[1]) > 0;
      } catch {
        return false;
      }
    },
    async remove() {
      try {
        writeFileSync(path.join(dir, "cgroup.kill"), "1");
      } catch {
        // kernels before 5.14 have no cgroup.kill
        let pids: string[] = [];
        try {
          pids = readFileSync(procs, "utf8").split("\n").filter(Boolean);
        } catch {
          // already gone
        }
        for (const pid of pids) {
          try {
            process.kill(Number(pid), "SIGKILL");
          } catch {
            // gone
          }
        }
      }
      // rmdir fails while killed processes are still exiting.
      for (let attempt = 0; attempt < 50; attempt++) {
        try {
          rmdirSync(dir);
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    },
  };
}
