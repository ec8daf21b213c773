import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/faults/**", "node_modules/**"],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // Sandboxed runs, type checks and databases are heavy on a 2-core machine.
    maxWorkers: 2,
    pool: "forks",
  },
});
