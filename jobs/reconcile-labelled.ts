import type { LinearClient } from "@linear/sdk";
import type { Redis } from "ioredis";
import type { TaskStore } from "../src/tasks/task-store.js";

const LABELLED_ISSUES = /* GraphQL */ `
  query AgentLabelledIssues($label: String!, $after: String) {
    issues(
      first: 100
      after: $after
      filter: { labels: { name: { eqIgnoreCase: $label } }, state: { type: { nin: ["completed", "canceled"] } } }
    ) {
      nodes { id identifier title url updatedAt team { id key } project { name } labels { nodes { name } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

/** An open Linear issue carrying the agent label, as the sweep reads it. */
export interface LabelledIssue {
  id: string;
  identifier: string;
  title: string;
  url: string;
  updatedAt: string;
  team: { id: string; key: string };
  project: { name: string } | null;
  labels: { nodes: Array<{ name: string }> };
  /** The workspace it was read from, when the OAuth app reads each installed workspace. */
  organizationId?: string;
}

/** One workspace to read: its client, and its organization id in OAuth app mode. */
export interface LabelSource {
  linear: LinearClient;
  organizationId?: string;
}

/** Labelled issues without a task: those to start, and those left alone because they predate the install. */
export interface Orphans {
  start: LabelledIssue[];
  notAdopted: LabelledIssue[];
  /** True on the sweep that recorded the install. */
  firstSweep: boolean;
}

// The adoption rule's state: when the first sweep ran, and what was labelled without a task then.
function adoptionKeys(prefix: string): { installedAt: string; preExisting: string } {
  return { installedAt: `${prefix}:reconcile:installed-at`, preExisting: `${prefix}:reconcile:pre-existing` };
}

/**
 * Open issues with the agent label and no task, split by the adoption rule. Issues labelled
 * before the service was installed are work someone parked under the label long ago, not webhooks
 * that went missing, so unless `adoptExisting` they are not started: the first sweep records the
 * install and every issue labelled without a task at that moment. Such an issue is left alone
 * while it keeps the label and stays open; once a sweep finds it unlabelled or closed it is
 * forgotten, so a later labelling is repaired like any other. Re-adding the label starts it
 * through the webhook as usual. Reading Linear fails as a whole, and then nothing is recorded.
 */
export async function labelledWithoutTask(p: {
  /** Every workspace to read (one with an API key); the adoption rule applies to them together. */
  sources: LabelSource[];
  redis: Redis;
  prefix: string;
  tasks: TaskStore;
  label: string;
  adoptExisting: boolean;
}): Promise<Orphans> {
  const labelled: LabelledIssue[] = [];
  const seen = new Set<string>();
  for (const source of p.sources) {
    for (const issue of await labelledIssues(source.linear, p.label)) {
      if (seen.has(issue.id)) continue;
      seen.add(issue.id);
      labelled.push(source.organizationId ? { ...issue, organizationId: source.organizationId } : issue);
    }
  }
  const orphans: LabelledIssue[] = [];
  for (const issue of labelled) if (!(await p.tasks.get(issue.id))) orphans.push(issue);
  const keys = adoptionKeys(p.prefix);
  const now = new Date().toISOString();
  if (p.adoptExisting) {
    const firstSweep = (await p.redis.set(keys.installedAt, now, "NX")) === "OK";
    return { start: orphans, notAdopted: [], firstSweep };
  }
  if (!(await p.redis.exists(keys.installedAt))) {
    // One transaction: a crash between the two would leave an install with no pre-existing
    // issues, and the next sweep would start them all.
    const tx = p.redis.multi();
    if (orphans.length > 0) tx.sadd(keys.preExisting, ...orphans.map((i) => i.id));
    await tx.set(keys.installedAt, now, "NX").exec();
    return { start: [], notAdopted: orphans, firstSweep: true };
  }
  const preExisting = new Set(await p.redis.smembers(keys.preExisting));
  const stillLabelled = new Set(labelled.map((i) => i.id));
  const forgotten = [...preExisting].filter((id) => !stillLabelled.has(id));
  if (forgotten.length > 0) await p.redis.srem(keys.preExisting, ...forgotten);
  return {
    start: orphans.filter((i) => !preExisting.has(i.id)),
    notAdopted: orphans.filter((i) => preExisting.has(i.id)),
    firstSweep: false,
  };
}

// Every page: a partial list would record a partial set of pre-existing issues, or forget some.
async function labelledIssues(linear: LinearClient, label: string): Promise<LabelledIssue[]> {
  const out: LabelledIssue[] = [];
  let after: string | null = null;
  for (;;) {
    const res: { data?: { issues: { nodes: LabelledIssue[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } } =
      await linear.client.rawRequest(LABELLED_ISSUES, { label, after });
    const issues = res.data?.issues;
    if (!issues) throw new Error("Linear answered the labelled-issues query without data");
    out.push(...issues.nodes);
    if (!issues.pageInfo.hasNextPage) return out;
    if (!issues.pageInfo.endCursor || issues.pageInfo.endCursor === after) {
      throw new Error(`Linear's issue list did not advance past cursor ${String(after)}; the labelled issues were not all read`);
    }
    after = issues.pageInfo.endCursor;
  }
}
