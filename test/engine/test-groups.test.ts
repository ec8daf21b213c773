/**
 * Tests in groups: how many runs a set of candidates costs, and that every failure recorded is a candidate's own
 * run. The runner is scripted (a test run fails when any of its files is a breaking one), the grouping is real.
 */
import { describe, expect, it } from "vitest";
import { disjointGroups, testInGroups } from "../../src/engine/test-groups.js";
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

describe("testInGroups", () => {
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
    // 8 together, then [a-d] passes, [e-h] fails, [e f] fails, [e] passes, [f] fails alone, [g h] passes.
    expect(grouped.runs).toBe(7);
    expect(runner.calls).toContainEqual(["src/f.ts"]);
    const f = await grouped.runner.run(files("src/f.ts"));
    expect(f).toMatchObject({ status: "fail", reason: "1 failed (vitest)" });
    expect(await grouped.runner.run(files("src/e.ts"))).toMatchObject({ status: "pass" });
    expect((await grouped.runner.run(files("src/e.ts"))).reason).toBeUndefined(); // e passed alone
    expect(await grouped.runner.run(files("src/a.ts"))).toMatchObject({
      status: "pass",
      reason: "passed in one run with 3 other candidates",
    });
    expect(runner.calls).toHaveLength(7); // answered from what the groups settled
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

  it("candidates changing the same file are never in one group; groups hold at most maxGroup", () => {
    const members = [files("a.ts", "b.ts"), files("b.ts"), files("c.ts"), files("a.ts"), files("d.ts")];
    const groups = disjointGroups(members, 2);
    for (const g of groups) {
      const paths = g.flatMap((m) => m.map((f) => f.path));
      expect(new Set(paths).size).toBe(paths.length);
      expect(g.length).toBeLessThanOrEqual(2);
    }
    expect(groups.flat()).toHaveLength(members.length);
    expect(groups.map((g) => g.map((m) => m.map((f) => f.path).join("+")))).toEqual([
      ["a.ts+b.ts", "c.ts"],
      ["b.ts", "a.ts"],
      ["d.ts"],
    ]);
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
