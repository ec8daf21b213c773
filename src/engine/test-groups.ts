/**
 * Tests in groups: candidates whose changes are apart (other files, or lines of one file apart from each other)
 * are tested together, one test run for many, and a
 * group whose run does not pass is split in halves until each failing candidate has run alone (a half whose failure
 * follows from its parent's and its sibling's runs is split without running it). When most fixes
 * keep the tests green (the common case), a cycle runs the tests a few times instead of once per candidate;
 * every "fail" recorded is still a candidate's own run, alone. Where the runner has several lanes, groups and the two
 * halves of a failing group run side by side (then a half is run even when its sibling's pass would have implied
 * its failure: the time is the longer run's, not the sum).
 *
 * A group's pass counts as each member's pass (its reason says how many ran together). Two fixes could in
 * principle hide each other's failure; Apply re-verifies a fix alone with the full suite before anything is
 * written, and data collection runs every candidate alone (`groupTests: false`).
 *
 * Members the caller expects to fail more often (`apart`: fixes that may change behaviour, doubtful ones) are packed
 * among themselves, so that one failing costs the halving only of its own kind and the others pass in one run.
 * Members whose changes give the tests the same code (the runner's `equivalent` key: twin recipes of two tools
 * that write the same JavaScript) are one member: one run, one result for all of them.
 */
import { createHash } from "node:crypto";
import { mergeEdits } from "./diff.js";
import type { Candidate, Diagnostic } from "./types.js";
import { diagnosticKey, overridesOf } from "./types.js";
import { type CandidateTestRunner, countNew, type TestRun } from "./verify.js";

type Files = readonly { path: string; before: string; after: string }[];

/** Most candidates tested in one run: a failing group of this size costs at most 2·log2(size) more runs. */
const MAX_GROUP = 16;

export interface GroupedTests {
  /** The runner candidates are verified with: a result the groups settled is answered without running again. */
  runner: CandidateTestRunner;
  /** Test runs the groups made (what grouping cost). */
  runs: number;
}

/**
 * Runs the tests for `members` (each a candidate's changed files) in groups of disjoint files and returns a runner
 * that answers each member's run from what the groups settled (anything else runs as usual).
 */
export async function testInGroups(
  tests: CandidateTestRunner,
  members: readonly Files[],
  options: { maxGroup?: number; aborted?: () => boolean; apart?: (files: Files) => boolean } = {},
): Promise<GroupedTests> {
  /** Results by test key (see {@link testKey}). */
  const settled = new Map<string, TestRun>();
  let runs = 0;
  const maxGroup = Math.max(1, options.maxGroup ?? MAX_GROUP);
  const lanes = Math.max(1, Math.floor(tests.lanes ?? 1));
  const run = limited(lanes, ([edits, only]: [Files, readonly string[] | undefined]) =>
    tests.run(edits, only ? { only } : undefined),
  );
  const key = (files: Files) => testKey(tests, files);

  /** One member per test key: the first of its kind runs for the others. */
  const unique = new Map<string, Files>();
  for (const files of members) {
    const k = files.length > 0 ? key(files) : null;
    if (k !== null && !unique.has(k)) unique.set(k, files);
  }

  /**
   * Settles a group; true when it passed as a whole (in one run). A group known not to pass (its parent did not, and the other
   * half passed) is split without running it: its run would only repeat what is known. A single member always
   * runs, so every "fail" is still a candidate's own run.
   */
  const settle = async (group: Files[], failsAsAWhole = false, only?: readonly string[]): Promise<boolean> => {
    if (options.aborted?.()) return false;
    let failed = only;
    if (!failsAsAWhole || group.length === 1) {
      const edits = combine(group);
      if (!edits) throw new Error("test groups: a group's edits no longer combine"); // packGroups made sure they do
      const r = await run([edits, only]);
      runs++;
      const within = only && r.ran === "related" ? onlyNote(only) : "";
      if (group.length === 1) {
        settled.set(key(group[0] as Files), r.status === "pass" && within ? { ...r, reason: within } : r);
        return r.status === "pass";
      }
      if (r.status === "pass") {
        const others = `passed in one run with ${group.length - 1} other candidate${group.length === 2 ? "" : "s"}`;
        const reason = within ? `${others}; ${within}` : others;
        for (const files of group) settled.set(key(files), { ...r, reason });
        return true;
      }
      failed = r.failedFiles ?? only;
    }
    // The halves run only the test files that failed, where the runner named them: the group's other tests
    // passed with every member's changes.
    const half = Math.ceil(group.length / 2);
    if (lanes > 1) {
      await Promise.all([settle(group.slice(0, half), false, failed), settle(group.slice(half), false, failed)]);
    } else {
      const firstPassed = await settle(group.slice(0, half), false, failed);
      // The whole did not pass and its first half did: the second half holds what failed.
      await settle(group.slice(half), firstPassed, failed);
    }
    // A group that was split did not pass as a whole (even where each half passes: two members can break the
    // tests only together), so its sibling is never taken to hold the failure on its account.
    return false;
  };

  // The members kept apart first: they are the likelier to fail, and a failure's halving takes the longest.
  const all = [...unique.values()];
  const apart = options.apart ?? (() => false);
  const doubtful = all.filter((m) => apart(m));
  const others = all.filter((m) => !apart(m));
  // As many groups as lanes, or one of each kind where there are more kinds than lanes.
  const kinds = (doubtful.length > 0 ? 1 : 0) + (others.length > 0 ? 1 : 0);
  const groups = fewerRounds(
    [...packGroups(doubtful, maxGroup), ...packGroups(others, maxGroup)],
    Math.max(lanes, kinds),
    maxGroup,
  );
  if (lanes > 1) await Promise.all(groups.map((group) => settle(group)));
  else for (const group of groups) await settle(group);

  const ranFor = new Map([...unique].map(([k, files]) => [k, filesKey(files)] as const));
  return {
    runs,
    runner: {
      ...tests,
      run: async (edits) => {
        const k = key(edits);
        const r = settled.get(k);
        if (!r) return tests.run(edits);
        return ranFor.get(k) === filesKey(edits) ? r : { ...r, reason: withTwinNote(r.reason) };
      },
      settled: (edits) => settled.has(key(edits)) || tests.settled?.(edits) === true,
    },
  };
}

/**
 * What identifies a run's result: the runner's key of the code under test where it has one, else the edits
 * themselves.
 */
function testKey(tests: CandidateTestRunner, files: Files): string {
  const equivalent = tests.equivalent?.(files) ?? null;
  return equivalent === null ? filesKey(files) : `js:${equivalent}`;
}

const TWIN_NOTE = "its changes compile to the same JavaScript as another candidate's, whose run this is";

function withTwinNote(reason: string | undefined): string {
  return reason ? `${reason}; ${TWIN_NOTE}` : TWIN_NOTE;
}

/**
 * The runner with one run for changes that give the tests the same code (its `equivalent` key): the first such
 * change runs, the others take its result (while it runs, they wait for it). Runs asked for particular test files
 * are never shared.
 */
export function shareEquivalentRuns(tests: CandidateTestRunner): CandidateTestRunner {
  if (!tests.equivalent) return tests;
  const runs = new Map<string, { files: string; result: Promise<TestRun> }>();
  return {
    ...tests,
    run: (edits, options) => {
      const k = options?.only ? null : (tests.equivalent?.(edits) ?? null);
      if (k === null) return tests.run(edits, options);
      const seen = runs.get(k);
      if (seen) {
        return seen.files === filesKey(edits)
          ? seen.result
          : seen.result.then((r) => ({ ...r, reason: withTwinNote(r.reason) }));
      }
      const result = tests.run(edits, options);
      runs.set(k, { files: filesKey(edits), result });
      return result;
    },
  };
}

function onlyNote(only: readonly string[]): string {
  const n = only.length;
  return `ran the ${n} test file${n === 1 ? "" : "s"} that failed in a larger group (its other tests passed there with this change)`;
}

/** `f` with at most `n` calls under way at once; the others wait their turn, first come first served. */
function limited<A, R>(n: number, f: (a: A) => Promise<R>): (a: A) => Promise<R> {
  const g = gate(n);
  return (a) => g.run(() => f(a));
}

/**
 * At most `capacity` calls of `run` under way at once, the others waiting their turn, first come first served;
 * `grow` raises the capacity (never lowers it) and starts those waiting.
 */
export function gate(initial: number): { run<T>(f: () => Promise<T>): Promise<T>; grow(capacity: number): void } {
  let capacity = Math.max(1, initial);
  let running = 0;
  const waiting: (() => void)[] = [];
  const pump = () => {
    while (running < capacity && waiting.length > 0) {
      running++;
      waiting.shift()?.();
    }
  };
  return {
    async run(f) {
      await new Promise<void>((resolve) => {
        waiting.push(resolve);
        pump();
      });
      try {
        return await f();
      } finally {
        running--;
        pump();
      }
    },
    grow(n) {
      capacity = Math.max(capacity, n);
      pump();
    },
  };
}

/**
 * Greedy packing, in the given order, into groups whose members' edits all apply together (see {@link combine})
 * and that hold at most `maxGroup` members.
 */
export function packGroups(members: readonly Files[], maxGroup: number): Files[][] {
  const groups: { combined: Files; members: Files[] }[] = [];
  for (const m of members) {
    let joined = false;
    for (const g of groups) {
      if (g.members.length >= maxGroup) continue;
      const combined = combine([g.combined, m]);
      if (combined) {
        g.combined = combined;
        g.members.push(m);
        joined = true;
        break;
      }
    }
    if (!joined) groups.push({ combined: m, members: [m] });
  }
  return groups.map((g) => g.members);
}

/**
 * Groups merged while there are more than `target` and two still combine (the smallest first, into the smallest
 * that takes it). Each group beyond the lanes is another round of test runs, paid by every cycle, while a merged
 * group costs more only when it fails: on two lanes, the doubtful, the others and a member that touches another's
 * lines were three groups and two rounds (tz, eta, unctx, uuid); now one round.
 */
export function fewerRounds(groups: readonly Files[][], target: number, maxGroup: number): Files[][] {
  const out = groups.map((g) => [...g]);
  while (out.length > Math.max(1, target)) {
    const bySize = out.map((g, i) => ({ g, i })).sort((a, b) => a.g.length - b.g.length);
    let merged = false;
    for (const small of bySize) {
      for (const into of bySize) {
        if (into.i === small.i || small.g.length + into.g.length > maxGroup) continue;
        if (combine([...into.g, ...small.g]) === null) continue;
        into.g.push(...small.g);
        out.splice(small.i, 1);
        merged = true;
        break;
      }
      if (merged) break;
    }
    if (!merged) break;
  }
  return out;
}

/**
 * The edits of several candidates as one: files only one of them changes as that one wrote them, a file several
 * change merged when their changes are apart ({@link mergeEdits}); null when two come too close to apply together.
 */
export function combine(members: readonly Files[]): Files | null {
  const byPath = new Map<string, { path: string; before: string; after: string }>();
  for (const files of members) {
    for (const f of files) {
      const seen = byPath.get(f.path);
      if (!seen) {
        byPath.set(f.path, { path: f.path, before: f.before, after: f.after });
        continue;
      }
      if (seen.before !== f.before) return null;
      const merged = mergeEdits(f.before, seen.after, f.after);
      if (merged === null) return null;
      seen.after = merged;
    }
  }
  return [...byPath.values()];
}

/** One key for a set of edits (paths and contents, in any order): the groups' results and the type-check memo. */
export function filesKey(files: readonly { path: string; after: string }[]): string {
  const h = createHash("sha256");
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    h.update(f.path).update("\u0000").update(f.after).update("\u0000");
  }
  return h.digest("hex");
}

/**
 * The candidates whose tests would run: those that change what the tests execute (and whose result the runner does
 * not know yet), one per patch. Where the tests only run the code, their type checks are not waited for: a group
 * starts at once, and a member that turns out to fail the type check only had its tests run for nothing (its
 * verification never reads them). Where the tests type-check too, such a member would fail its group and cost a
 * halving: the type checks go first (asked all at once, answered in order by the type checker's process).
 */
export async function testableMembers(
  runner: CandidateTestRunner,
  list: readonly Candidate[],
  typeCheck: (overrides: ReadonlyMap<string, string>) => Promise<Diagnostic[]>,
  baselineDiagnostics: readonly Diagnostic[],
): Promise<Candidate["files"][]> {
  const baselineKeys = baselineDiagnostics.map(diagnosticKey);
  const typeChecksFirst = runner.checksTypes?.() ?? true;
  const seen = new Set<string>();
  const wanted = list.filter((c) => {
    if (seen.has(c.patchHash) || runner.unchanged?.(c.files) || runner.settled?.(c.files)) return false;
    seen.add(c.patchHash);
    return true;
  });
  const checks = typeChecksFirst ? wanted.map((c) => typeCheck(overridesOf(c.files)).catch(() => null)) : [];
  const members: Candidate["files"][] = [];
  for (const [i, c] of wanted.entries()) {
    if (typeChecksFirst) {
      const after = await checks[i];
      // A type checker that fails is reported by the candidate's own verification.
      if (!after || countNew(baselineKeys, after.map(diagnosticKey)) > 0) continue;
    }
    members.push(c.files);
  }
  return members;
}
