/**
 * Tests in groups: how many runs a set of candidates costs, and that every failure recorded is a candidate's own
 * run. The runner is scripted (a test run fails when any of its files is a breaking one), the grouping is real.
 */
import { describe, expect, it } from "vitest";
import { mergeEdits } from "../../src/engine/diff.js";
import { combine, fewerRounds, packGroups, shareEquivalentRuns, testInGroups } from "../../src/engine/test-groups.js";
import type { CandidateTestRunner, TestRun } from "../../src/engine/verify.js";

const files = (...paths: string[]) => paths.map((path) => ({ path, before: "a", after: `b:${path}` }));

function scripted(breaking: Set<string>): CandidateTestRunner & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    run: async (edits): Promise<TestRun> => {
      calls.push(edits.map((e) => e.path));
      const broken = edits.filter((e) => breaking.has(e.path)).length;
      return broken > 0
        ? { status: "fail", reason: `${broken} failed (vitest)`, durationMs: 1, ran: "full" }
        : { status: "pass", durationMs: 1, ran: "full" };
    },
  };
}

/** A runner whose `equivalent` key is the changed paths' contents with the tool's name left out. */
function withTwins(runner: CandidateTestRunner): CandidateTestRunner {
  return {
    ...runner,
    equivalent: (edits) =>
      edits
        .map((e) => `${e.path}=${e.after.replace(/@(eslint|biome)$/, "")}`)
        .sort()
        .join(","),
  };
}

describe("testInGroups", () => {
  it("keeps the doubtful members apart: the others pass in one run, the halving stays among the doubtful", async () => {
    const runner = scripted(new Set(["src/f.ts"]));
    const members = ["a", "b", "c", "d", "e", "f", "g", "h"].map((p) => files(`src/${p}.ts`));
    const doubtful = new Set(["src/f.ts", "src/h.ts"]);
    const grouped = await testInGroups(runner, members, { apart: (m) => doubtful.has(m[0]?.path ?? "") });
    // [f h] fails, [f] fails alone, [h] passes; [a b c d e g] passes in one run. Without `apart`: 6 runs.
    expect(grouped.runs).toBe(4);
    expect(runner.calls).toContainEqual(["src/a.ts", "src/b.ts", "src/c.ts", "src/d.ts", "src/e.ts", "src/g.ts"]);
    expect(await grouped.runner.run(files("src/f.ts"))).toMatchObject({ status: "fail" });
    expect(await grouped.runner.run(files("src/a.ts"))).toMatchObject({
      status: "pass",
      reason: "passed in one run with 5 other candidates",
    });
    const without = scripted(new Set(["src/f.ts"]));
    expect((await testInGroups(without, members)).runs).toBe(6);
  });

  it("runs twins (changes the runner calls equivalent) once, and answers each with that run", async () => {
    const runner = scripted(new Set(["src/b.ts"]));
    const twin = (path: string, tool: string) => [{ path, before: "a", after: `b:${path}@${tool}` }];
    const members = [
      twin("src/a.ts", "eslint"),
      twin("src/a.ts", "biome"),
      twin("src/b.ts", "eslint"),
      twin("src/b.ts", "biome"),
    ];
    // Without the key, the two fixes of one file cannot share a run: they change the same line.
    expect(packGroups(members, 16)).toHaveLength(2);
    const grouped = await testInGroups(withTwins(runner), members);
    // [a b] fails, [a] passes, [b] fails: each tool's fix of a file took its twin's result.
    expect(grouped.runs).toBe(3);
    expect(await grouped.runner.run(members[0] as never)).toMatchObject({ status: "pass" });
    const biomeA = await grouped.runner.run(members[1] as never);
    expect(biomeA.status).toBe("pass");
    expect(biomeA.reason).toMatch(/same JavaScript as another candidate's/);
    expect(await grouped.runner.run(members[3] as never)).toMatchObject({ status: "fail" });
    expect(runner.calls).toHaveLength(3);
  });

  it("shareEquivalentRuns: one run for equivalent changes outside groups too, never for runs of chosen files", async () => {
    const runner = scripted(new Set());
    const shared = shareEquivalentRuns(withTwins(runner));
    const a = [{ path: "src/a.ts", before: "a", after: "b@eslint" }];
    const b = [{ path: "src/a.ts", before: "a", after: "b@biome" }];
    const [ra, rb] = await Promise.all([shared.run(a), shared.run(b)]);
    expect(ra.reason).toBeUndefined();
    expect(rb).toMatchObject({ status: "pass", reason: expect.stringMatching(/same JavaScript/) });
    expect(runner.calls).toHaveLength(1);
    await shared.run(b, { only: ["test/a.test.ts"] });
    expect(runner.calls).toHaveLength(2);
    // Without a key, the runner is the runner.
    const plain = scripted(new Set());
    expect(shareEquivalentRuns(plain)).toBe(plain);
  });

  it("all passing: one run for all, each member's pass says it ran with the others", async () => {
    const runner = scripted(new Set());
    const members = ["a", "b", "c", "d"].map((p) => files(`src/${p}.ts`));
    const grouped = await testInGroups(runner, members);
    expect(grouped.runs).toBe(1);
    for (const m of members) {
      expect(await grouped.runner.run(m)).toMatchObject({
        status: "pass",
        reason: "passed in one run with 3 other candidates",
      });
    }
    expect(runner.calls).toHaveLength(1);
  });

  it("one breaking member is found by halving, and its fail comes from its own run", async () => {
    const runner = scripted(new Set(["src/f.ts"]));
    const members = ["a", "b", "c", "d", "e", "f", "g", "h"].map((p) => files(`src/${p}.ts`));
    const grouped = await testInGroups(runner, members);
    // 8 together, then [a-d] passes (so [e-h] holds the failure: not run), [e f] fails, [e] passes, [f] fails alone,
    // [g h] passes.
    expect(grouped.runs).toBe(6);
    expect(runner.calls).not.toContainEqual(["src/e.ts", "src/f.ts", "src/g.ts", "src/h.ts"]);
    expect(runner.calls).toContainEqual(["src/f.ts"]);
    const f = await grouped.runner.run(files("src/f.ts"));
    expect(f).toMatchObject({ status: "fail", reason: "1 failed (vitest)" });
    expect(await grouped.runner.run(files("src/e.ts"))).toMatchObject({ status: "pass" });
    expect((await grouped.runner.run(files("src/e.ts"))).reason).toBeUndefined(); // e passed alone
    expect(await grouped.runner.run(files("src/a.ts"))).toMatchObject({
      status: "pass",
      reason: "passed in one run with 3 other candidates",
    });
    expect(runner.calls).toHaveLength(6); // answered from what the groups settled
  });

  it("a half whose failure follows from the runs before is split without running; its single member still runs", async () => {
    const runner = scripted(new Set(["src/h.ts"]));
    const members = ["a", "b", "c", "d", "e", "f", "g", "h"].map((p) => files(`src/${p}.ts`));
    const grouped = await testInGroups(runner, members);
    // 8 together fail; [a-d] passes, so [e-h] is not run; [e f] passes, so [g h] is not run; [g] passes, [h] fails
    // by its own run.
    expect(runner.calls.map((c) => c.length)).toEqual([8, 4, 2, 1, 1]);
    expect(runner.calls.at(-1)).toEqual(["src/h.ts"]);
    expect(await grouped.runner.run(files("src/h.ts"))).toMatchObject({ status: "fail" });
    expect(await grouped.runner.run(files("src/g.ts"))).toMatchObject({ status: "pass" });

    // A breaking member in each half: [a-d] fails, so [e-h] runs; within it [e f] passes, so [g h] does not run.
    const two = scripted(new Set(["src/b.ts", "src/g.ts"]));
    const both = await testInGroups(two, members);
    expect(two.calls.map((c) => c.length)).toEqual([8, 4, 2, 1, 1, 2, 4, 2, 1, 1]);
    for (const p of ["b", "g"]) expect(await both.runner.run(files(`src/${p}.ts`))).toMatchObject({ status: "fail" });
  });

  it("a half that failed as a whole says so, even when its own halves pass: its sibling still runs", async () => {
    // c and d break the tests only together.
    const calls: string[][] = [];
    const runner: CandidateTestRunner = {
      run: async (edits) => {
        const paths = edits.map((e) => e.path);
        calls.push(paths);
        return paths.includes("src/c.ts") && paths.includes("src/d.ts")
          ? { status: "fail", reason: "1 failed (vitest)", durationMs: 1 }
          : { status: "pass", durationMs: 1 };
      },
    };
    const members = ["a", "b", "c", "d"].map((p) => files(`src/${p}.ts`));
    const grouped = await testInGroups(runner, members);
    // [a-d] fails; [a b] passes, so [c d] is known to fail and is split: [c] and [d] each pass alone.
    expect(calls.map((c) => c.length)).toEqual([4, 2, 1, 1]);
    for (const p of ["a", "b", "c", "d"]) {
      expect(await grouped.runner.run(files(`src/${p}.ts`))).toMatchObject({ status: "pass" });
    }

    // Six members, [a b c] fails only for b and c together: [d e f] must still run, not be taken as the failure.
    const six = ["a", "b", "c", "d", "e", "f"].map((p) => files(`src/${p}.ts`));
    const seen: number[] = [];
    const pair: CandidateTestRunner = {
      run: async (edits) => {
        const paths = edits.map((e) => e.path);
        seen.push(paths.length);
        return paths.includes("src/b.ts") && paths.includes("src/c.ts")
          ? { status: "fail", reason: "1 failed (vitest)", durationMs: 1 }
          : { status: "pass", durationMs: 1 };
      },
    };
    await testInGroups(pair, six);
    // [a-f] fails; [a b c] fails; [a b] passes, so [c] runs alone (passes); then [d e f] runs as a whole (passes).
    expect(seen).toEqual([6, 3, 2, 1, 3]);
  });

  it("a run that is neither pass nor fail splits too; edits nobody grouped run as usual", async () => {
    const calls: number[] = [];
    const runner: CandidateTestRunner = {
      run: async (edits) => {
        calls.push(edits.length);
        return edits.length > 1
          ? { status: "unknown", reason: "timed out", durationMs: 1 }
          : { status: "pass", durationMs: 1 };
      },
    };
    const grouped = await testInGroups(runner, [files("x.ts"), files("y.ts")]);
    expect(calls).toEqual([2, 1, 1]);
    expect(await grouped.runner.run(files("x.ts"))).toEqual({ status: "pass", durationMs: 1 });
    await grouped.runner.run(files("z.ts"));
    expect(calls).toEqual([2, 1, 1, 1]);
  });

  it("with two lanes, a member that fits no group of its kind joins the other kind's: one round, not two", async () => {
    const base = "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n";
    const line = (n: number, to: string) => [{ path: "x.ts", before: base, after: base.replace(`${n}\n`, `${to}\n`) }];
    const doubtful = line(9, "D");
    const [o1, o2, o3] = [line(2, "A"), files("z.ts"), line(3, "C")]; // o3 is next to o1's line: not with o1
    const members = [doubtful, o1, o2, o3];
    const apart = (m: readonly unknown[]) => m === doubtful;
    const runner = { ...scripted(new Set()), lanes: 2 };
    const grouped = await testInGroups(runner, members, { apart });
    // Packed by kind: [doubtful], [o1 o2], [o3]: three groups, two rounds on two lanes. o3 joins the doubtful.
    expect(grouped.runs).toBe(2);
    expect(runner.calls.map((c) => c.length).sort()).toEqual([1, 2]);
    expect(await grouped.runner.run(o3)).toMatchObject({
      status: "pass",
      reason: "passed in one run with 1 other candidate",
    });
    // One lane and both kinds: the kinds stay apart (two runs), the odd one out still joins one of them.
    const single = scripted(new Set());
    expect((await testInGroups(single, members, { apart })).runs).toBe(2);
  });

  it("fewerRounds merges the smallest group into the smallest that takes it, within maxGroup, never edits that clash", () => {
    const base = "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n";
    const line = (n: number, to: string) => [{ path: "x.ts", before: base, after: base.replace(`${n}\n`, `${to}\n`) }];
    const [a, b, c, d] = [files("a.ts"), files("b.ts"), files("c.ts"), line(2, "X")];
    const clash = line(3, "Y");
    expect(fewerRounds([[a, b], [c], [d]], 2, 16)).toEqual([
      [a, b],
      [d, c],
    ]);
    expect(fewerRounds([[a, b], [c], [d]], 1, 16)).toEqual([[d, c, a, b]]);
    expect(fewerRounds([[a, b], [c], [d]], 1, 2)).toEqual([
      [a, b],
      [d, c],
    ]);
    expect(fewerRounds([[d], [clash]], 1, 16)).toEqual([[d], [clash]]);
    expect(fewerRounds([[a], [b]], 2, 16)).toEqual([[a], [b]]);
  });

  it("groups hold at most maxGroup; members whose edits cannot be combined are in different groups", () => {
    const base = "a\nb\nc\nd\ne\n";
    const edit = (path: string, after: string) => [{ path, before: base, after }];
    const members = [
      [...edit("x.ts", "A\nb\nc\nd\ne\n"), ...edit("y.ts", "a\nb\nc\nd\nE\n")],
      edit("x.ts", "a\nb\nc\nd\nE\n"), // x.ts line 5: apart from line 1, joins the first group
      edit("x.ts", "a\nB\nc\nd\ne\n"), // x.ts line 2: next to line 1, a group of its own
      edit("z.ts", "z\n"),
      edit("w.ts", "w\n"),
    ];
    const groups = packGroups(members, 3);
    expect(groups.map((g) => g.map((m) => (members as readonly (typeof m)[]).indexOf(m)))).toEqual([
      [0, 1, 3],
      [2, 4],
    ]);
    for (const g of groups) expect(g.length).toBeLessThanOrEqual(3);
    expect(combine(groups[0] as (typeof members)[number][])).toEqual([
      { path: "x.ts", before: base, after: "A\nb\nc\nd\nE\n" },
      { path: "y.ts", before: base, after: "a\nb\nc\nd\nE\n" },
      { path: "z.ts", before: base, after: "z\n" },
    ]);
    expect(combine([members[0] as never, members[2] as never])).toBeNull();
  });
  it("with lanes, groups and halves run side by side, never more at once than the lanes", async () => {
    // Three groups (members that change the same line of x.ts cannot share one), one breaking member; each run
    // takes a few milliseconds, so runs that may overlap do.
    const base = "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n";
    const members = [0, 1, 2].flatMap((g) =>
      ["p", "q", "r", "s"].map((m, i) => [
        { path: "x.ts", before: base, after: base.replace(`${i * 3}\n`, `${m}${g}\n`) },
      ]),
    );
    let running = 0;
    let most = 0;
    const calls: number[] = [];
    const runner: CandidateTestRunner = {
      lanes: 2,
      run: async (edits) => {
        running++;
        most = Math.max(most, running);
        calls.push(edits.length);
        await new Promise((resolve) => setTimeout(resolve, 15));
        running--;
        const broken = edits.some((e) => e.path === "x.ts" && e.after.includes("r1\n"));
        return broken
          ? { status: "fail", reason: "1 failed (vitest)", durationMs: 1 }
          : { status: "pass", durationMs: 1 };
      },
    };
    const grouped = await testInGroups(runner, members);
    expect(most).toBe(2);
    // 3 groups; the failing one splits into two halves run together ([p q] passes, [r s] fails), then [r] and [s]
    // run together: the half [r s] is run although [p q]'s pass implied its failure.
    expect(grouped.runs).toBe(7);
    const r1 = members[6] as (typeof members)[number];
    expect(await grouped.runner.run(r1)).toMatchObject({ status: "fail" });
    for (const m of members.filter((x) => x !== r1)) {
      expect(await grouped.runner.run(m)).toMatchObject({ status: "pass" });
    }
    expect(calls).toHaveLength(7);

    // One lane: the same groups one after the other, with the implied half left out.
    let overlap = 0;
    running = 0;
    const one = await testInGroups(
      {
        ...runner,
        lanes: 1,
        run: async (e) => {
          running++;
          overlap = Math.max(overlap, running);
          const r = await runner.run(e);
          running--;
          return r;
        },
      },
      members,
    );
    expect(overlap).toBe(1);
    expect(one.runs).toBe(6);
  });

  it("a failing group's halves run only the test files that failed, where the runner named them", async () => {
    const asked: (readonly string[] | null)[] = [];
    const runner: CandidateTestRunner = {
      run: async (edits, options) => {
        asked.push(options?.only ?? null);
        return edits.some((e) => e.path === "src/c.ts")
          ? {
              status: "fail",
              reason: "1 failed (vitest)",
              durationMs: 1,
              ran: "related",
              failedFiles: ["test/c.test.ts"],
            }
          : { status: "pass", durationMs: 1, ran: "related" };
      },
    };
    const members = ["a", "b", "c", "d"].map((p) => files(`src/${p}.ts`));
    const grouped = await testInGroups(runner, members);
    // [a-d] fails naming test/c.test.ts; [a b] passes on it (so [c d] is split unrun); [c] fails, [d] passes.
    expect(asked).toEqual([null, ["test/c.test.ts"], ["test/c.test.ts"], ["test/c.test.ts"]]);
    expect(await grouped.runner.run(files("src/c.ts"))).toMatchObject({ status: "fail" });
    expect((await grouped.runner.run(files("src/d.ts"))).reason).toBe(
      "ran the 1 test file that failed in a larger group (its other tests passed there with this change)",
    );
    expect((await grouped.runner.run(files("src/a.ts"))).reason).toMatch(
      /^passed in one run with 1 other candidate; ran/,
    );
  });

  it("stops starting runs once aborted", async () => {
    const runner = scripted(new Set(["a.ts"]));
    let aborted = false;
    const grouped = await testInGroups(
      {
        run: async (e) => {
          aborted = true;
          return runner.run(e);
        },
      },
      [files("a.ts"), files("b.ts")],
      { aborted: () => aborted },
    );
    expect(grouped.runs).toBe(1);
  });
});

describe("mergeEdits", () => {
  const before = "one\ntwo\nthree\nfour\nfive\nsix\n";
  it("applies two edits whose changes are apart, in either order", () => {
    const a = "ONE\ntwo\nthree\nfour\nfive\nsix\n";
    const b = "one\ntwo\nthree\nfour\nfive\nsix\nseven\n";
    const both = "ONE\ntwo\nthree\nfour\nfive\nsix\nseven\n";
    expect(mergeEdits(before, a, b)).toBe(both);
    expect(mergeEdits(before, b, a)).toBe(both);
    // A deletion and a replacement three lines apart; lines move, contents land where they belong.
    expect(mergeEdits(before, "one\nthree\nfour\nfive\nsix\n", "one\ntwo\nthree\nfour\nFIVE\nsix\n")).toBe(
      "one\nthree\nfour\nFIVE\nsix\n",
    );
  });
  it("refuses changes on the same or neighbouring lines, and an insertion beside a change", () => {
    expect(mergeEdits(before, "ONE\ntwo\nthree\nfour\nfive\nsix\n", "one\nTWO\nthree\nfour\nfive\nsix\n")).toBeNull();
    expect(mergeEdits(before, "1\ntwo\nthree\nfour\nfive\nsix\n", "uno\ntwo\nthree\nfour\nfive\nsix\n")).toBeNull();
    expect(
      mergeEdits(before, "one\nnew\ntwo\nthree\nfour\nfive\nsix\n", "one\nTWO\nthree\nfour\nfive\nsix\n"),
    ).toBeNull();
  });
  it("one side unchanged or both the same: the other", () => {
    const a = "one\ntwo\nTHREE\nfour\nfive\nsix\n";
    expect(mergeEdits(before, before, a)).toBe(a);
    expect(mergeEdits(before, a, a)).toBe(a);
  });
  it("keeps or changes the final newline as the side that changed it; refuses when both do", () => {
    const noEol = "one\ntwo\nthree\nfour\nfive\nsix";
    expect(mergeEdits(before, "ONE\ntwo\nthree\nfour\nfive\nsix\n", noEol)).toBe("ONE\ntwo\nthree\nfour\nfive\nsix");
    expect(mergeEdits(before, "ONE\ntwo\nthree\nfour\nfive\nsix", "one\ntwo\nthree\nfour\nfive\nSIX")).toBeNull();
  });
});
