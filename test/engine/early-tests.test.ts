/** The gate the early test runs go through: the baseline's lane stays free until its tests end. */
import { describe, expect, it } from "vitest";
import { growingGate } from "../../src/engine/steps/early-tests.js";

describe("growingGate", () => {
  it("runs at most its capacity at once, first come first served, and starts those waiting when it grows", async () => {
    const gate = growingGate(1);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const releases: (() => void)[] = [];
    const job = (i: number) =>
      gate.run(async () => {
        running++;
        most = Math.max(most, running);
        order.push(i);
        await new Promise<void>((resolve) => releases.push(resolve));
        running--;
        return i;
      });
    const jobs = [job(1), job(2), job(3)];
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual([1]);
    gate.grow(2);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual([1, 2]);
    releases.shift()?.();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual([1, 2, 3]);
    for (const release of releases.splice(0)) release();
    expect(await Promise.all(jobs)).toEqual([1, 2, 3]);
    expect(most).toBe(2);
    // A smaller capacity never shrinks it.
    gate.grow(1);
    const [a, b] = [job(4), job(5)];
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual([1, 2, 3, 4, 5]);
    for (const release of releases.splice(0)) release();
    expect(await Promise.all([a, b])).toEqual([4, 5]);
  });
});
