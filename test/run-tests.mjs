#!/usr/bin/env node
// The test command. Starts what the tests need when it is not already there: a throwaway Postgres (initdb +
// pg_ctl) when DATABASE_URL is unset, a throwaway Redis when REDIS_URL is unset; runs vitest with any arguments
// given; stops what it started. Says exactly what to install when a binary is missing.
import { spawn } from "node:child_process";
import { MissingServiceError, startPostgres, startRedis } from "./helpers/services.mjs";

const started = [];

function stopAll() {
  while (started.length) {
    try {
      started.pop()();
    } catch {}
  }
}

const env = { ...process.env };
try {
  if (!env.DATABASE_URL) {
    const pg = await startPostgres();
    started.push(() => pg.destroy());
    env.DATABASE_URL = pg.url;
    console.log(`odavl tests: started a throwaway Postgres at ${env.DATABASE_URL}`);
  }
  if (!env.REDIS_URL) {
    const redis = await startRedis();
    started.push(() => redis.destroy());
    env.REDIS_URL = redis.url;
    console.log(`odavl tests: started a throwaway Redis at ${env.REDIS_URL}`);
  }
} catch (err) {
  stopAll();
  if (err instanceof MissingServiceError) console.error(`odavl tests: ${err.message}`);
  else console.error(`odavl tests: could not start the test services: ${err.message}`);
  process.exit(2);
}

for (const sig of ["SIGINT", "SIGTERM"])
  process.on(sig, () => {
    stopAll();
    process.exit(130);
  });
const vitest = spawn(process.execPath, ["node_modules/vitest/vitest.mjs", "run", ...process.argv.slice(2)], {
  env,
  stdio: "inherit",
});
vitest.on("exit", (code, signal) => {
  stopAll();
  process.exit(code ?? (signal ? 1 : 0));
});
