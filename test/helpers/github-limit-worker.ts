// A separate process for the shared GitHub limits test: its own Octokit (and, with `prefix`, its
// own limiter on that Redis prefix) sends `count` requests at once when the parent says "go",
// then reports how many GitHub answered and how many it refused.
import { Redis } from "ioredis";
import { createGitHubLimiter, createOctokit } from "../../src/github/octokit.js";
import { createLogger } from "../../src/logger.js";

interface Args {
  redisUrl: string;
  /** No prefix: the process paces only itself, as every worker did before limits were shared. */
  prefix?: string;
  githubUrl: string;
  token: string;
  owner: string;
  repo: string;
  count: number;
  requestsPerHour: number;
  windowMs: number;
}

const args = JSON.parse(process.argv[2] ?? "{}") as Args;
const logger = createLogger({ level: "silent" });
const redis = new Redis(args.redisUrl, { maxRetriesPerRequest: 1 });
const limiter = args.prefix
  ? createGitHubLimiter({ redis, prefix: args.prefix, logger, requestsPerHour: args.requestsPerHour, windowMs: args.windowMs })
  : undefined;
const octokit = createOctokit({ token: args.token, baseUrl: args.githubUrl, logger, maxRetries: 0, writeSpacingMs: 0, ...(limiter ? { limiter } : {}) });

process.once("message", async () => {
  const results = await Promise.allSettled(
    Array.from({ length: args.count }, () => octokit.rest.repos.get({ owner: args.owner, repo: args.repo })),
  );
  const refused = results.filter((r) => r.status === "rejected").map((r) => String((r.reason as Error).message));
  process.send?.({ ok: results.length - refused.length, refused });
  redis.disconnect();
  process.disconnect();
});
process.send?.({ ready: true });
