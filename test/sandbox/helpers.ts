/** Watching sandboxed processes from the host: by a marker on their command line, by uid; reachability probes. */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** A workspace under a 0700 directory, as the worker creates them. */
export function makeWorkspace(): { root: string; ws: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), "odavl-sbx-test-"));
  const ws = path.join(root, "ws");
  mkdirSync(ws);
  return { root, ws };
}

/** Pids of the processes whose command line contains `marker`. */
export function processesMatching(marker: string): string[] {
  try {
    return execFileSync("pgrep", ["-f", marker], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

/** Waits (bounded) until no process carries `marker`; returns those still there. */
export async function waitUntilGone(marker: string, ms = 2000): Promise<string[]> {
  const end = Date.now() + ms;
  let left = processesMatching(marker);
  while (left.length > 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    left = processesMatching(marker);
  }
  return left;
}

/** True for a running process; a zombie (killed, not yet reaped by its new parent) is not running. */
export function isAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

/** Whether a TCP connection to 127.0.0.1:port succeeds from the host (a separate process, 5 s at most). */
export function canConnectFromHost(port: number): boolean {
  try {
    execFileSync(
      process.execPath,
      [
        "-e",
        `const s=require("net").connect(${port},"127.0.0.1");s.on("connect",()=>process.exit(0));s.on("error",()=>process.exit(1))`,
      ],
      { timeout: 5000 },
    );
    return true;
  } catch {
    return false;
  }
}

/** uid and command line of every process on the machine. */
function processTable(): { uid: string; args: string }[] {
  let table: string;
  try {
    table = execFileSync("ps", ["-eo", "uid=,args="], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  } catch {
    return [];
  }
  return table
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const space = line.search(/\s/);
      return space < 0 ? { uid: line, args: "" } : { uid: line.slice(0, space), args: line.slice(space + 1) };
    });
}

/**
 * The uids of non-root processes whose command line contains `marker`: the run's own uid (bwrap itself runs as
 * root and carries the command line too).
 */
function uidsOf(marker: string): string[] {
  return [
    ...new Set(
      processTable()
        .filter((p) => p.args.includes(marker) && p.uid !== "0")
        .map((p) => p.uid),
    ),
  ];
}

/** Number of processes owned by `uid`. */
export function countByUid(uid: string): number {
  return processTable().filter((p) => p.uid === uid).length;
}

/** Number of processes owned by the uid of the first non-root process whose command line contains `marker`. */
export function countByUidOf(marker: string): number {
  const uid = uidsOf(marker)[0];
  return uid === undefined ? 0 : countByUid(uid);
}

/**
 * Watches the machine's processes every 100 ms: the uids that ran something carrying `marker`, and the most
 * processes any of them held at once.
 */
export function watchRunUids(marker: string): { stop(): { uids: string[]; peak: number } } {
  const uids = new Set<string>();
  let peak = 0;
  const tick = () => {
    const table = processTable();
    for (const p of table) if (p.uid !== "0" && p.args.includes(marker)) uids.add(p.uid);
    for (const uid of uids) peak = Math.max(peak, table.filter((p) => p.uid === uid).length);
  };
  const timer = setInterval(tick, 100);
  return {
    stop() {
      clearInterval(timer);
      tick();
      return { uids: [...uids], peak };
    },
  };
}
