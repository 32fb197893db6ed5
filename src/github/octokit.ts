import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import Bottleneck from "bottleneck";
import type { Logger } from "../logger.js";

const AgentOctokit = Octokit.plugin(retry, throttling);
export type GitHub = InstanceType<typeof AgentOctokit>;

/**
 * One Octokit per process, so the throttling plugin spaces writes and honours rate limits across
 * every job: `retry-after` and `x-ratelimit-reset` are respected, secondary limits back off.
 */
export function createOctokit(p: {
  token: string;
  baseUrl: string;
  logger: Logger;
  maxRetries?: number;
  /** Minimum time between writes; requests that notify people (comments, reviews) wait 3× this. */
  writeSpacingMs?: number;
}): GitHub {
  const log = p.logger.child({ component: "github" });
  const maxRetries = p.maxRetries ?? 3;
  const spacing = p.writeSpacingMs ?? 1000;
  return new AgentOctokit({
    auth: p.token,
    baseUrl: p.baseUrl.replace(/\/+$/, ""),
    userAgent: "agent-workforce",
    log: {
      debug: () => undefined,
      info: () => undefined,
      warn: (msg: string) => log.warn(msg),
      error: (msg: string) => log.error(msg),
    },
    retry: { retries: maxRetries },
    throttle: {
      // GitHub asks integrations to space content-creating requests; the plugin's own spacing
      // is 1 s for writes and 3 s for requests that notify people.
      write: new Bottleneck.Group({ maxConcurrent: 1, minTime: spacing }),
      notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: spacing * 3 }),
      onRateLimit: (retryAfter, options, _octokit, retryCount) => {
        log.warn(
          { retryAfter, route: `${options.method} ${options.url}`, retryCount },
          "GitHub rate limit hit",
        );
        return retryCount < maxRetries;
      },
      onSecondaryRateLimit: (retryAfter, options, _octokit, retryCount) => {
        log.warn(
          { retryAfter, route: `${options.method} ${options.url}`, retryCount },
          "GitHub secondary rate limit hit",
        );
        return retryCount < maxRetries;
      },
    },
  });
}
