import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Redis-backed tests isolate by queue prefix, so files can run in parallel.
    fileParallelism: true,
    pool: "forks",
  },
});
