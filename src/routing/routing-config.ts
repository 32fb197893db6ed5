import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import {
  EFFORTS,
  type Effort,
  MIN_THINKING_BUDGET,
  requestThinking,
  THINKING_WORDS,
  type ThinkingSetting,
} from "../agent/thinking.js";

const repoName = z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "must look like owner/name");

const quoted = (v: unknown) => JSON.stringify(v) ?? String(v);

// One message for every way a thinking value can be wrong, listing what it may be.
const thinkingError = {
  error: (i: { input?: unknown }) =>
    `must be ${THINKING_WORDS.join(", ")} or a budget of thinking tokens (a whole number of at least ` +
    `${MIN_THINKING_BUDGET}), not ${quoted(i.input)}`,
};
const thinking = z.union(
  [z.enum(THINKING_WORDS), z.number().int(thinkingError).min(MIN_THINKING_BUDGET, thinkingError)],
  thinkingError,
);

const effort = z.enum(EFFORTS, { error: (i) => `must be one of ${EFFORTS.join(", ")}, not ${quoted(i.input)}` });

const repoSettings = z
  .object({
    baseBranch: z.string().min(1).optional(),
    checkCommand: z.string().min(1).optional(),
    maxAgents: z.number().int().positive().optional(),
    thinking: thinking.optional(),
    effort: effort.optional(),
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
  /** How the agent's model thinks; undefined leaves the model's default. */
  thinking: ThinkingSetting | undefined;
  /** `output_config.effort` of the agent's model calls; undefined leaves the model's default. */
  effort: Effort | undefined;
}

/** The agent's model and output limit, to check the file's thinking and effort against. */
export interface RoutingModel {
  model: string;
  maxTokens: number;
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

/**
 * Validates a parsed routing document (from YAML or JSON); with `agent`, also that its model
 * accepts every thinking and effort setting the file asks for.
 */
export function parseRouting(doc: unknown, defaultRepo: string | undefined, file = "routing", agent?: RoutingModel): Routing {
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
    thinking: d.defaults?.thinking,
    effort: d.defaults?.effort,
  };
  const repos: Routing["repos"] = {};
  for (const [key, settings] of Object.entries(d.repos ?? {})) {
    repos[key.toLowerCase()] = { ...defaults, ...stripUndefined(settings) };
  }
  if (agent) {
    const problems = modelProblems(defaults, d.repos ?? {}, repos, agent);
    if (problems.length) throw new RoutingConfigError(file, problems);
  }
  return { defaultRepo, routes: d.routes ?? [], repos, defaults };
}

// The model refuses some combinations (a budget on a 5.x model, `off` where thinking is always
// on): each is named here, under the key that asked for it, rather than failing every agent run.
function modelProblems(
  defaults: Routing["defaults"],
  asked: Record<string, { thinking?: unknown; effort?: unknown }>,
  repos: Routing["repos"],
  agent: RoutingModel,
): string[] {
  const problems: string[] = [];
  const check = (where: string, s: Routing["defaults"]) => {
    try {
      requestThinking(s, agent.model, agent.maxTokens);
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
    }
  };
  check("defaults", defaults);
  for (const [key, own] of Object.entries(asked)) {
    const settings = repos[key.toLowerCase()];
    if (settings && (own.thinking !== undefined || own.effort !== undefined)) check(`repos.${key}`, settings);
  }
  return problems;
}

/** Reads and validates the routing file, or builds the table from DEFAULT_REPO alone. */
export async function loadRouting(
  file: string | undefined,
  defaultRepo: string | undefined,
  agent?: RoutingModel,
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
  return parseRouting(doc, defaultRepo, file, agent);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
