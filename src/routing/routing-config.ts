import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

const repoName = z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "must look like owner/name");

const repoSettings = z
  .object({
    baseBranch: z.string().min(1).optional(),
    checkCommand: z.string().min(1).optional(),
    maxAgents: z.number().int().positive().optional(),
  })
  .strict();

const route = z
  .object({
    team: z.string().min(1).optional(),
    project: z.string().min(1).optional(),
    repo: repoName,
  })
  .strict()
  .refine((r) => r.team || r.project, { message: "a route needs a team or a project" });

const fileSchema = z
  .object({
    defaults: repoSettings.optional(),
    repos: z
      .record(z.string(), repoSettings)
      .superRefine((repos, ctx) => {
        // Checked here rather than as a key schema so the value's own problems are reported too.
        for (const key of Object.keys(repos)) {
          if (!repoName.safeParse(key).success)
            ctx.addIssue({ code: "custom", path: [key], message: `"${key}" must look like owner/name` });
        }
      })
      .optional(),
    routes: z.array(route).optional(),
  })
  .strict();

/** Settings of one repository agents work in. */
export interface RepoSettings {
  owner: string;
  name: string;
  /** Branch PRs target; undefined means the repository's default branch on GitHub. */
  baseBranch: string | undefined;
  checkCommand: string | undefined;
  maxAgents: number;
}

/** The validated routing table. */
export interface Routing {
  defaultRepo: string | undefined;
  routes: Array<{ team?: string; project?: string; repo: string }>;
  repos: Record<string, Omit<RepoSettings, "owner" | "name">>;
  defaults: Omit<RepoSettings, "owner" | "name">;
}

export const DEFAULT_MAX_AGENTS = 2;

/** Raised for an unreadable or invalid routing file; lists every problem with its path. */
export class RoutingConfigError extends Error {
  constructor(file: string, problems: string[], options?: ErrorOptions) {
    super(
      `Invalid AGENT_WORKFORCE_CONFIG (${file}):\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      options,
    );
    this.name = "RoutingConfigError";
  }
}

/** Validates a parsed routing document (from YAML or JSON). */
export function parseRouting(doc: unknown, defaultRepo: string | undefined, file = "routing"): Routing {
  const parsed = fileSchema.safeParse(doc ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`);
    throw new RoutingConfigError(file, problems);
  }
  const d = parsed.data;
  const defaults = {
    baseBranch: d.defaults?.baseBranch,
    checkCommand: d.defaults?.checkCommand,
    maxAgents: d.defaults?.maxAgents ?? DEFAULT_MAX_AGENTS,
  };
  const repos: Routing["repos"] = {};
  for (const [key, settings] of Object.entries(d.repos ?? {})) {
    repos[key.toLowerCase()] = { ...defaults, ...stripUndefined(settings) };
  }
  return { defaultRepo, routes: d.routes ?? [], repos, defaults };
}

/** Reads and validates the routing file, or builds the table from DEFAULT_REPO alone. */
export async function loadRouting(
  file: string | undefined,
  defaultRepo: string | undefined,
): Promise<Routing> {
  if (!file) return parseRouting({}, defaultRepo);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new RoutingConfigError(file, [`cannot read the file: ${(err as Error).message}`], { cause: err });
  }
  let doc: unknown;
  try {
    doc = file.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new RoutingConfigError(
      file,
      [`not valid ${file.endsWith(".json") ? "JSON" : "YAML"}: ${(err as Error).message}`],
      {
        cause: err,
      },
    );
  }
  return parseRouting(doc, defaultRepo, file);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
