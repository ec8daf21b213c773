/**
 * bench:record — predictions with their outcomes written to Postgres per second, through the same Learn step
 * cycles use (finishCycle: one transaction per cycle, multi-row inserts). Target: at least 5,000 per second.
 *   npm run bench:record [-- --json --cycles 20 --per-cycle 500]
 * Uses DATABASE_URL's server (a fresh database, dropped afterwards).
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import pg from "pg";
import { openDb } from "../src/db/client.js";
import { finishCycle, startCycle } from "../src/db/queries/cycles.js";
import { setConsent, upsertRepository } from "../src/db/queries/repositories.js";
import type { CandidateResult } from "../src/engine/types.js";
import { sampleResult } from "../test/helpers/samples.js";

const { values } = parseArgs({
  options: {
    json: { type: "boolean" },
    cycles: { type: "string", default: "20" },
    "per-cycle": { type: "string", default: "500" },
  },
});
const cycles = Number(values.cycles);
const perCycle = Number(values["per-cycle"]);
const server = process.env.DATABASE_URL;
if (!server) {
  console.error("bench:record needs DATABASE_URL (a Postgres server; a fresh database is created and dropped)");
  process.exit(2);
}

const name = `odavl_bench_${randomBytes(4).toString("hex")}`;
const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`create database ${name}`);
const url = new URL(server);
url.pathname = `/${name}`;
const handle = await openDb({ databaseUrl: url.toString() });
try {
  const repo = await upsertRepository(handle.db, { owner: "bench", name: "record", mode: "shadow" });
  await setConsent(handle.db, repo.id, "dataCollection", true, { source: "operator", actor: "bench" });
  const results = (k: number): CandidateResult[] => Array.from({ length: perCycle }, (_, i) => sampleResult(k, i));
  const perCycleMs: number[] = [];
  const t0 = performance.now();
  for (let k = 0; k < cycles; k++) {
    const cycle = await startCycle(handle.db, {
      repositoryId: repo.id,
      runKey: `bench-${k}`,
      sha: "0".repeat(40),
      trigger: "shadow",
    });
    const batch = results(k);
    const t = performance.now();
    await finishCycle(handle.db, {
      cycleId: cycle.id,
      repositoryId: repo.id,
      sha: "0".repeat(40),
      status: "completed",
      error: null,
      durationsMs: {},
      facts: null,
      results: batch,
      storeData: true,
    });
    perCycleMs.push(performance.now() - t);
  }
  const totalMs = performance.now() - t0;
  const sorted = [...perCycleMs].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  const out = {
    rows: cycles * perCycle,
    cycles,
    perCycle,
    recordsPerSecond: Math.round((cycles * perCycle) / (totalMs / 1000)),
    medianRecordsPerSecond: Math.round(perCycle / (median / 1000)),
    medianCycleWriteMs: Math.round(median),
  };
  if (values.json) console.log(JSON.stringify(out));
  else {
    console.log(`${out.rows} predictions with outcomes in ${cycles} cycles of ${perCycle}`);
    console.log(`overall:            ${out.recordsPerSecond} records/s`);
    console.log(`median per cycle:   ${out.medianRecordsPerSecond} records/s (${out.medianCycleWriteMs} ms per cycle)`);
    console.log("target:             5000 records/s");
  }
} finally {
  await handle.close();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}
