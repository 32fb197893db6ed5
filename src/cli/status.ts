import { formatUsd } from "../agent/pricing.js";
import type { Config } from "../config.js";
import { createRedis, pingWithin, redactUrl } from "../redis.js";
import { STATE_LABEL } from "../status/format.js";
import { TaskStore } from "../tasks/task-store.js";
import type { Task } from "../tasks/task.js";

/** `agent-workforce status`: the dashboard's task table in the terminal. Returns the exit code. */
export async function status(config: Config, out: (line: string) => void, opts: { limit?: number } = {}): Promise<number> {
  const redis = createRedis(config.redisUrl, "producer", { enableOfflineQueue: true });
  redis.on("error", () => undefined);
  try {
    await pingWithin(redis, 3_000);
  } catch {
    out(`Redis at ${redactUrl(config.redisUrl)} does not answer: start it or set REDIS_URL.`);
    redis.disconnect();
    return 1;
  }
  try {
    const tasks = await new TaskStore(redis, config.redisPrefix).list(opts.limit ?? 50);
    if (tasks.length === 0) {
      out("No tasks yet: label a Linear issue with the agent label to start one.");
      return 0;
    }
    const rows = tasks.map(row);
    const header = ["ISSUE", "STATE", "REPOSITORY", "PR", "TURNS", "COST", "AGE", "NOW"];
    const widths = header.map((h, i) => Math.min(40, Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length))));
    const line = (cells: string[]) => cells.map((c, i) => c.slice(0, widths[i]).padEnd(widths[i] ?? 0)).join("  ").trimEnd();
    out(line(header));
    for (const r of rows) out(line(r));
    const spend = tasks.reduce((a, t) => a + t.costUsd, 0);
    const running = tasks.filter((t) => ["working", "checking", "revising"].includes(t.state)).length;
    out(`\n${tasks.length} tasks, ${running} agents working, ${formatUsd(spend)} spent on these tasks`);
    return 0;
  } finally {
    redis.disconnect();
  }
}

function row(t: Task): string[] {
  return [
    t.identifier,
    STATE_LABEL[t.state],
    t.repo ? `${t.repo.owner}/${t.repo.name}` : "-",
    t.prNumber ? `#${t.prNumber}` : "-",
    String(t.turns),
    formatUsd(t.costUsd),
    age(t.createdAt),
    t.error ?? t.step ?? "",
  ];
}

function age(iso: string): string {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 90) return `${Math.round(s)}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  if (s < 129_600) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}
