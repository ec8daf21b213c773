/**
 * GitHub's own recorded payloads (`@octokit/webhooks-examples`: every event and action GitHub documents) delivered
 * to the web process over HTTP, signed: the events app.yml subscribes to are handled, every other one is answered
 * and ignored, and none is refused or fails. Real Postgres and Redis.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { useStrictNock } from "./helpers/github-mock.js";
import type { Payload } from "./helpers/payloads.js";
import { postWebhook } from "./helpers/probot.js";
import { useWebhookServer } from "./helpers/web-server.js";

const require = createRequire(import.meta.url);
const EXAMPLES = require("@octokit/webhooks-examples") as { name: string; examples: Payload[] }[];

/** The events app.yml subscribes to, plus the two every GitHub App receives. */
function subscribedEvents(): string[] {
  const manifest = readFileSync(resolve(import.meta.dirname, "../../app.yml"), "utf8");
  const block = manifest.split("default_events:")[1] ?? "";
  const listed = [...block.matchAll(/^\s+-\s+([a-z_0-9]+)\s*$/gm)].map((m) => m[1] as string);
  return [...listed, "installation", "installation_repositories"];
}

describe("GitHub's recorded payloads", () => {
  useStrictNock();
  const web = useWebhookServer("examples", { reset: false });

  it("has payloads for every event app.yml subscribes to", () => {
    const names = new Set(EXAMPLES.map((e) => e.name));
    expect(subscribedEvents().filter((e) => !names.has(e))).toEqual([]);
    expect(EXAMPLES.length).toBeGreaterThan(50);
  });

  it("answers every one 200: subscribed events handled, the others ignored", async () => {
    const subscribed = new Set(subscribedEvents());
    const results = new Map<string, string[]>();
    const failures: string[] = [];
    for (const { name, examples } of EXAMPLES) {
      for (const payload of examples) {
        const answer = await postWebhook(web.url, name, payload);
        const body = (await answer.json()) as { result?: string; error?: string };
        const key = `${name}.${typeof payload.action === "string" ? payload.action : "-"}`;
        if (answer.status !== 200) failures.push(`${key}: ${answer.status} ${body.error}`);
        else results.set(name, [...(results.get(name) ?? []), body.result as string]);
      }
    }
    expect(failures).toEqual([]);
    for (const [name, answers] of results) {
      if (!subscribed.has(name)) expect(new Set(answers), name).toEqual(new Set(["ignored"]));
    }
    // Each subscribed event was handled for at least one of its payloads (those of an installation).
    const handled = [...subscribed].filter((name) => (results.get(name) ?? []).some((r) => r !== "ignored"));
    expect(handled.sort()).toEqual([...subscribed].sort());
    expect(await web.queue.count()).toBeGreaterThan(0);
  });
});
