import type { FastifyInstance } from "fastify";
import { startWorkers, type Workers } from "../jobs/workers.js";
import { buildApp } from "./app.js";
import type { Config, Role } from "./config.js";
import { createDeps, type Deps, type DepsOverrides } from "./deps.js";
import { TASK_SCHEMA_VERSION } from "./tasks/task.js";
import type { MigrationReport } from "./tasks/task-migrate.js";

/** A running service: what `close()` must stop, in order. */
export interface Running {
  deps: Deps;
  app?: FastifyInstance;
  address?: string;
  close(): Promise<void>;
}

/** Starts the requested roles over one set of deps; the caller owns signals and exit codes. */
export async function run(
  config: Config,
  roles: readonly Role[],
  overrides: DepsOverrides = {},
): Promise<Running> {
  const deps = await createDeps(config, { roles, ...overrides });
  const log = deps.logger;
  try {
    await upgradeTaskRecords(deps);
  } catch (err) {
    await deps.close().catch(() => undefined);
    throw err;
  }
  let app: FastifyInstance | undefined;
  let address: string | undefined;
  if (roles.includes("server")) {
    app = await buildApp(deps);
    address = await app.listen({ port: config.port, host: config.host });
    log.info({ address }, "webhook server listening");
  }
  let workers: Workers | undefined;
  if (roles.includes("worker")) {
    workers = await startWorkers(deps);
    log.info({ concurrency: config.agent.concurrency }, "workers started");
  }
  let closing: Promise<void> | undefined;
  return {
    deps,
    app,
    address,
    close() {
      closing ??= (async () => {
        // Stop taking webhooks first; then agents finish their current turn, push their work and
        // hand their jobs back to the queue; then the workers and the deps go.
        if (app) await app.close();
        deps.draining.abort(new Error("shutting down"));
        if (workers) await workers.close();
        await deps.close();
      })();
      return closing;
    },
  };
}

/**
 * Start-up, before any webhook or job: rewrites task records of an older schema version at this
 * release's, names the unreadable ones, and throws (the service does not start) when a newer
 * release wrote some, since this one would misread them.
 */
export async function upgradeTaskRecords(deps: Pick<Deps, "tasks" | "logger">): Promise<MigrationReport> {
  const report = await deps.tasks.migrateAll();
  const migrated = Object.values(report.migrated).reduce((a, b) => a + b, 0);
  deps.logger.info(
    { schemaVersion: TASK_SCHEMA_VERSION, scanned: report.scanned, migrated, migratedFrom: report.migrated, current: report.current, malformed: report.malformed.length, skipped: report.skipped.length },
    "task records checked",
  );
  for (const s of report.skipped) {
    deps.logger.warn({ key: s.key, reason: s.reason }, "task record not migrated at start-up: it is read as its own version, and its next update writes the current one");
  }
  for (const m of report.malformed) {
    deps.logger.warn({ key: m.key, err: m.error }, "task record unreadable: jobs for its issue fail until it is fixed or deleted");
  }
  return report;
}

/** Closes `running` on SIGTERM/SIGINT and exits; a second signal exits at once. */
export function closeOnSignals(running: Running): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    running.deps.logger.info({ signal }, "shutting down");
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        running.deps.logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
