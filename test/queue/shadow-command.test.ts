/** `odavl shadow`: registering public repositories in shadow mode, their schedule, queueing and removing them. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Queue } from "bullmq";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandContext } from "../../src/cli/command.js";
import { parseShadowTarget, shadowCommand } from "../../src/cli/commands/shadow.js";
import { UsageError } from "../../src/cli/usage-error.js";
import { queryRows } from "../../src/db/client.js";
import { createCyclesQueue } from "../../src/queue/producer.js";
import { schedulerId } from "../../src/queue/schedules.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { buildDemo, producerConnection, redisUrl, testQueueConfig } from "./helpers.js";

describe("shadow targets", () => {
  it("reads owner/name, git URLs and local paths", () => {
    expect(parseShadowTarget("vitejs/vite", "/nonexistent")).toEqual({
      owner: "vitejs",
      name: "vite",
      source: "https://github.com/vitejs/vite.git",
    });
    expect(parseShadowTarget("https://github.com/microsoft/TypeScript.git")).toEqual({
      owner: "microsoft",
      name: "TypeScript",
      source: "https://github.com/microsoft/TypeScript.git",
    });
    expect(parseShadowTarget("git@gitlab.com:group/tool.git")).toMatchObject({ owner: "group", name: "tool" });
    expect(parseShadowTarget(".", tmpdir())).toMatchObject({ owner: "local", source: tmpdir() });
  });

  it("refuses credentials and what is not a repository", () => {
    expect(() => parseShadowTarget("https://user:secret@github.com/a/b.git")).toThrow(UsageError);
    expect(() => parseShadowTarget("not a repository")).toThrow(UsageError);
  });
});

describe("odavl shadow", () => {
  let db: TestDb;
  let queue: Queue;
  let dir: string;
  const config = testQueueConfig("shadow-cli");

  beforeAll(async () => {
    db = await createTestDb("postgres");
    queue = createCyclesQueue(config, producerConnection());
    dir = mkdtempSync(join(tmpdir(), "odavl-shadow-cli-"));
  });

  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    await db.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  async function odavlShadow(...argv: string[]): Promise<{ code: number; out: string }> {
    let out = "";
    const stream = {
      write: (s: string) => {
        out += s;
        return true;
      },
    } as unknown as NodeJS.WriteStream;
    const ctx: CommandContext = {
      argv,
      env: { DATABASE_URL: db.url as string, REDIS_URL: redisUrl(), QUEUE_PREFIX: config.prefix },
      stdout: stream,
      stderr: stream,
    };
    return { code: await shadowCommand(ctx), out };
  }

  it("registers a repository with operator consent and its schedule, queues a cycle, lists and removes it", async () => {
    const repoDir = join(dir, "lib");
    const sha = buildDemo(repoDir);
    const added = await odavlShadow("add", repoDir, "--data-collection", "--schedule", "weekly", "--run");
    expect(added.code).toBe(0);
    expect(added.out).toContain(`registered local/lib in shadow mode from ${repoDir}`);

    const [repo] = await queryRows<{ id: number; mode: string; source: string; data_collection: boolean }>(
      db.db,
      sql`select id, mode, source, data_collection from repositories`,
    );
    expect(repo).toMatchObject({ mode: "shadow", source: repoDir, data_collection: true });
    expect(await queryRows(db.db, sql`select field, value, source from consent_events`)).toEqual([
      { field: "dataCollection", value: true, source: "operator" },
    ]);
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers.map((s) => s.key)).toEqual([schedulerId(repo?.id as number)]);
    const job = await queue.getJob(`cycle-r${repo?.id}-${sha}-shadow`);
    expect(job?.data).toMatchObject({ trigger: "shadow", sha });

    expect((await odavlShadow("list")).out).toContain("local/lib");
    expect((await odavlShadow("remove", "local/lib")).code).toBe(0);
    expect(await queryRows(db.db, sql`select id from repositories`)).toEqual([]);
    expect(await queue.getJobSchedulers()).toEqual([]);
    expect(await queue.getJob(`cycle-r${repo?.id}-${sha}-shadow`)).toBeUndefined();
  });
});
