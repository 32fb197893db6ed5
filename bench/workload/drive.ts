// The load of the workload bench: N issues labelled through the server's signed webhook route, the
// first on each repository alone (its mirror is cold), then the rest as slots free up (at most one
// per worker slot in flight, at most one label every `gapMs`), so the figures are the service's
// own latency rather than time spent queueing for a slot. Watches the task events and the fakes
// until every issue has its pull request (or failed), sampling worker RSS and agents in flight.
import { Redis } from "ioredis";
import { branchForIssue } from "../../src/workspace/index.js";
import type { FakeIssue } from "../../test/fakes/linear/index.js";
import { linearIssuePayload } from "../../test/fixtures/linear.js";
import { LINEAR_SECRET } from "../../test/helpers/config.js";
import { signLinear } from "../../test/helpers/sign.js";
import type { ScriptedModel } from "./model.js";
import { procRss } from "./processes.js";
import { OWNER, type Stack, type StackRepo } from "./stack.js";

/** One issue of the run. */
export interface Labelled {
  issue: FakeIssue;
  repo: string;
  cold: boolean;
  labelledAt: number;
  /** The task's last state seen on the task-events channel, and its error. */
  state: string | null;
  error: string | null;
}

/** One sample of the workers while the load ran. */
export interface Sample {
  at: number;
  rss: number[];
  agents: number[];
}

export interface DriveOptions {
  issues: number;
  slots: number;
  gapMs: number;
  timeoutMs: number;
  onProgress?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pull requests the GitHub fake holds for `l` (by the branch the service names after the issue). */
export function pullsOf(stack: Stack, l: Labelled) {
  const head = branchForIssue(l.issue.identifier);
  return stack.github.state.pulls.filter((p) => p.repoKey.toLowerCase() === `${OWNER}/${l.repo}`.toLowerCase() && p.headRef === head);
}

async function label(stack: Stack, repo: StackRepo, l: Labelled, address: string): Promise<void> {
  const stored = stack.linear.store.getIssue(l.issue.id);
  const updatedAt = new Date().toISOString();
  if (stored) stored.updatedAt = updatedAt;
  const body = JSON.stringify(
    linearIssuePayload("update", {
      issueId: l.issue.id,
      identifier: l.issue.identifier,
      title: l.issue.title,
      team: { id: repo.team.id, key: repo.team.key, name: repo.team.name },
      labels: [{ id: stack.agentLabel.id, name: "agent", color: "#5e6ad2" }],
      updatedFrom: { labelIds: [] },
      updatedAt,
      organizationId: stack.linear.store.organization.id,
    }),
  );
  l.labelledAt = Date.now();
  const res = await fetch(`${address}/webhooks/linear`, { method: "POST", body, headers: { "content-type": "application/json", "linear-signature": signLinear(LINEAR_SECRET, body) } });
  if (res.status !== 200) throw new Error(`the server answered the label of ${l.issue.identifier} with ${res.status}: ${await res.text()}`);
}

/** Follows every task's state from the task-events channel (one SUBSCRIBE: the bench's only Redis command besides INFO). */
async function watchTasks(stack: Stack, byId: Map<string, Labelled>): Promise<Redis> {
  const sub = new Redis(stack.redis.url, { enableReadyCheck: false, maxRetriesPerRequest: 1 });
  sub.on("message", (_channel: string, text: string) => {
    const t = JSON.parse(text) as { issueId: string; state: string; error: string | null };
    const l = byId.get(t.issueId);
    if (l) Object.assign(l, { state: t.state, error: t.error });
  });
  await sub.subscribe(`${stack.prefix}:task-events`);
  return sub;
}

const ended = (stack: Stack, l: Labelled) => pullsOf(stack, l).length > 0 || l.state === "failed" || l.state === "stopped";

/** Labels `o.issues` issues over the stack's repositories and waits until each has a PR or failed. */
export async function drive(stack: Stack, model: ScriptedModel, o: DriveOptions): Promise<{ labelled: Labelled[]; samples: Sample[]; loadStartedAt: number }> {
  const labelled: Labelled[] = Array.from({ length: o.issues }, (_, i) => {
    const repo = stack.repos[i % stack.repos.length] as StackRepo;
    const issue = stack.linear.store.seedIssue({ teamId: repo.team.id, title: `Feature ${i + 1} of ${repo.name}`, description: "Add the feature module and greet from it; the checks must pass.", labelIds: [stack.agentLabel.id] });
    return { issue, repo: repo.name, cold: i < stack.repos.length, labelledAt: 0, state: null, error: null };
  });
  const byId = new Map(labelled.map((l) => [l.issue.id, l]));
  const repoOf = (l: Labelled) => stack.repos.find((r) => r.name === l.repo) as StackRepo;
  const address = stack.server.address as string;
  const sub = await watchTasks(stack, byId);
  const samples: Sample[] = [];
  const sampler = setInterval(() => {
    const open = labelled.filter((l) => l.labelledAt > 0 && !ended(stack, l));
    samples.push({
      at: Date.now(),
      rss: stack.workers.map((w) => procRss(w.pid)),
      agents: stack.workers.map((_, i) => open.filter((l) => model.agents.get(l.issue.identifier)?.worker === i).length),
    });
  }, 200);
  const deadline = Date.now() + o.timeoutMs;
  const until = async (what: string, done: () => boolean) => {
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(10);
    }
  };
  try {
    const cold = labelled.filter((l) => l.cold);
    await Promise.all(cold.map((l) => label(stack, repoOf(l), l, address)));
    await until("the first agent on each repository", () => cold.every((l) => model.agents.has(l.issue.identifier) || ended(stack, l)));
    o.onProgress?.(`cold start done: ${cold.length} repositories have their mirror`);
    const loadStartedAt = Date.now();
    await Promise.all(stack.workers.map((w) => w.resetLag()));
    let next = cold.length;
    let shown = 0;
    while (next < labelled.length) {
      const inFlight = labelled.filter((l) => l.labelledAt > 0 && !ended(stack, l)).length;
      if (inFlight >= o.slots) {
        await sleep(5);
        continue;
      }
      const l = labelled[next++] as Labelled;
      await label(stack, repoOf(l), l, address);
      if (next - shown >= 50) o.onProgress?.(`labelled ${(shown = next)} of ${labelled.length}`);
      await sleep(o.gapMs);
    }
    await until("every issue's pull request", () => labelled.every((l) => ended(stack, l)));
    return { labelled, samples, loadStartedAt };
  } finally {
    clearInterval(sampler);
    sub.disconnect();
  }
}

/**
 * After the load: one more issue on each repository, labelled alone with nothing else running
 * (warm mirror, parked trees ready), to tell the service's own latency from time spent queueing
 * for the CPU under load. Returns label → first model request of each, in ms.
 */
export async function driveAlone(stack: Stack, model: ScriptedModel, timeoutMs: number): Promise<number[]> {
  const out: number[] = [];
  const address = stack.server.address as string;
  for (const repo of stack.repos) {
    const issue = stack.linear.store.seedIssue({ teamId: repo.team.id, title: `A lone feature of ${repo.name}`, description: "Add the feature module and greet from it; the checks must pass.", labelIds: [stack.agentLabel.id] });
    const l: Labelled = { issue, repo: repo.name, cold: false, labelledAt: 0, state: null, error: null };
    await label(stack, repo, l, address);
    const deadline = Date.now() + timeoutMs;
    while (!(model.agents.has(issue.identifier) && pullsOf(stack, l).length > 0)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for the lone issue ${issue.identifier}`);
      await sleep(10);
    }
    out.push((model.agents.get(issue.identifier)?.firstAt ?? 0) - l.labelledAt);
  }
  return out;
}

/** Waits until neither fake has received a request for `quietMs` (the jobs' last updates are in). */
export async function settle(stack: Stack, quietMs: number, maxMs: number): Promise<void> {
  const count = () => stack.linear.requests.length + stack.github.requests.length;
  const deadline = Date.now() + maxMs;
  let last = count();
  let since = Date.now();
  while (Date.now() - since < quietMs && Date.now() < deadline) {
    await sleep(100);
    if (count() !== last) [last, since] = [count(), Date.now()];
  }
}
