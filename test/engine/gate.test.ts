/** The gate of test runs at once: the early runs go through one that grows when the baseline's tests end. */
import { describe, expect, it } from "vitest";
import { gate } from "../../src/engine/test-groups.js";

describe("gate", () => {
  it("runs at most its capacity at once, first come first served, and starts those waiting when it grows", async () => {
    const lanes = gate(1);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const releases: (() => void)[] = [];
    const job = (i: number) =>
      lanes.run(async () => {
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
    lanes.grow(2);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual([1, 2]);
    releases.shift()?.();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual([1, 2, 3]);
    for (const release of releases.splice(0)) release();
    expect(await Promise.all(jobs)).toEqual([1, 2, 3]);
    expect(most).toBe(2);
    // A smaller capacity never shrinks it.
    lanes.grow(1);
    const [a, b] = [job(4), job(5)];
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual([1, 2, 3, 4, 5]);
    for (const release of releases.splice(0)) release();
    expect(await Promise.all([a, b])).toEqual([4, 5]);
  });
});
