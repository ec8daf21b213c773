import { defineConfig } from "vitest/config";

// The fault, hostile-input and load suite (`npm run test:faults`). One file at a time: its tests stop and start
// their own Postgres and Redis servers and measure latency under load, which other files would disturb.
export default defineConfig({
  test: {
    include: ["test/faults/**/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 180_000,
    maxWorkers: 1,
    fileParallelism: false,
    pool: "forks",
  },
});
