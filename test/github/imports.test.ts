/**
 * src/github holds GitHub's API and webhooks: it imports nothing of the queue (what it needs from it is declared
 * in src/github/ports.ts and passed in by the entry points), nor of the layers that wire the processes.
 */
import { describe, expect, it } from "vitest";
import { forbiddenImports, partFiles } from "../helpers/imports.js";

describe("src/github's imports", () => {
  it("reach none of queue, collect, runtime, cli", () => {
    expect(partFiles("github").length).toBeGreaterThan(5);
    expect(forbiddenImports("github", ["queue", "collect", "runtime", "cli"])).toEqual([]);
  });

  it("would name an import of the queue", () => {
    // The check itself, on a part that does import the queue: src/cli wires the processes.
    expect(
      forbiddenImports("cli", ["queue"]).some((line) => /^src\/cli\/.+ imports .+ \(src\/queue\)$/.test(line)),
    ).toBe(true);
  });
});
