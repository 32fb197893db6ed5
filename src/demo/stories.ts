import type { GitHubFake } from "../../test/fakes/github/index.js";
import { needsYou, stateTransfer } from "../dashboard/figures.js";
import type { Task } from "../tasks/task.js";
import type { TaskStore } from "../tasks/task-store.js";
import { changesRequested, commentCreated, inlineComment, labelAdded, merged } from "./events.js";
import type { DemoIssue, LinearStandIn } from "./linear-stand-in.js";

/** What the stories drive: the service's task records, the stand-ins and the signed webhook routes. */
export interface DemoWorld {
  tasks: TaskStore;
  linear: LinearStandIn;
  github: GitHubFake;
  owner: string;
  repo: string;
  say: (line: string) => void;
  /** Print every task's steps as they change (LOG_LEVEL=debug or trace). */
  trace: boolean;
  deadline: number;
  sendLinear(body: unknown): Promise<Response>;
  sendGitHub(event: string, body: unknown): Promise<Response>;
  /** Merges a branch into main on the remote (the fake's merge button only marks the PR). */
  mergeBranch(branch: string): Promise<void>;
}

const WORKING = new Set(["working", "checking", "revising"]);
const usd = (n: number) => `$${n.toFixed(4)}`;

/** Polls a task until `done` holds; fails with what it waited for and where the task stands. */
async function waitTask(w: DemoWorld, issueId: string, done: (t: Task) => boolean, what: string): Promise<Task> {
  for (;;) {
    const t = await w.tasks.get(issueId);
    if (t && done(t)) return t;
    if (t && (t.state === "failed" || t.state === "stopped")) throw new Error(`the demo's ${t.identifier} ${t.state} while waiting for ${what}: ${t.error}`);
    if (Date.now() > w.deadline) throw new Error(`the demo timed out waiting for ${what} (task: ${t?.state} ${t?.step ?? ""})`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Polls `check` for at most `ms` (and never past the demo's deadline). */
async function waitUntil(w: DemoWorld, check: () => boolean, ms: number): Promise<void> {
  const until = Math.min(Date.now() + ms, w.deadline);
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
}

/** Prints the dashboard's "Needs you" list (PRs awaiting review aside), then pauses as a person reading it would. */
async function showNeedsYou(w: DemoWorld): Promise<void> {
  const items = needsYou(await w.tasks.list(200)).filter((i) => i.kind !== "review");
  w.say(`[dashboard] Needs you: ${items.map((i) => `${i.task.identifier} (${i.kind})`).join(", ") || "nothing"}`);
  await new Promise((r) => setTimeout(r, 800));
}

/** Merges a task's PR as grace: the branch into main, the PR marked merged, the signed webhook. */
async function mergePr(w: DemoWorld, t: Task): Promise<void> {
  const pr = t.prNumber as number;
  await w.mergeBranch(t.branch as string);
  w.github.mergePull(w.owner, w.repo, pr);
  await w.sendGitHub("pull_request", merged({ owner: w.owner, repo: w.repo, pr, branch: t.branch as string, by: "grace" }));
}

const triageLine = (t: Task) => `triage (${t.triage?.model}, ${usd(t.triage?.costUsd ?? 0)}): ${t.triage?.verdict}, ${t.triage?.criteria.length} acceptance criteria`;

/** The `ready` issue: a PR, a review asking for a change, the revision, the merge. */
async function readyStory(w: DemoWorld, issue: DemoIssue): Promise<void> {
  const tag = `[${issue.identifier}]`;
  let task = await waitTask(w, issue.id, (t) => Boolean(t.triage), "the ready issue's triage");
  w.say(`${tag} ${triageLine(task)} → the agent starts on branch ${task.branch ?? "agent/…"}`);
  task = await waitTask(w, issue.id, (t) => t.state === "pr-open", "the ready issue's pull request");
  const pr = task.prNumber as number;
  // The task records the PR a moment before the issue's move in Linear lands.
  await waitUntil(w, () => w.linear.stateName(issue.id) === "In Review", 15_000);
  w.say(`${tag} the agent edited greet.js, ran \`node test.js\` and opened PR #${pr} (${task.turns} turns, ${usd(task.costUsd)}); Linear: "${w.linear.stateName(issue.id)}"`);
  const review = w.github.addReview(w.owner, w.repo, pr, { user: "grace", state: "CHANGES_REQUESTED", body: "Almost there." });
  const hunk = "@@ -1,3 +1,3 @@\n-export function greet() {\n-  return \"Hello!\";\n+export function greet(name = \"world\") {\n+  return `Hello, ${name}!`;";
  const body = "Please trim spaces around the name.";
  const comment = w.github.addReviewComment(w.owner, w.repo, pr, { user: "grace", body, path: "greet.js", line: 2, diff_hunk: hunk, pull_request_review_id: review.id });
  await w.sendGitHub("pull_request_review_comment", inlineComment({ owner: w.owner, repo: w.repo, pr, id: comment.id, reviewId: review.id, reviewer: "grace", body, path: "greet.js", line: 2, diffHunk: "@@ -1,3 +1,3 @@" }));
  await w.sendGitHub("pull_request_review", changesRequested({ owner: w.owner, repo: w.repo, pr, reviewId: review.id, reviewer: "grace", body: "Almost there." }));
  w.say(`${tag} grace requests changes on PR #${pr} with an inline comment → one revision job`);
  task = await waitTask(w, issue.id, (t) => t.revisions >= 1 && t.state === "pr-open", "the revision");
  const replies = w.github.state.reviewComments.filter((c) => c.inReplyToId === comment.id).length;
  w.say(`${tag} the agent resumed on the same branch from its hand-off note, pushed a commit and answered in the thread (${replies} reply); total ${usd(task.costUsd)}`);
  await mergePr(w, task);
  await waitTask(w, issue.id, (t) => t.state === "merged", "the merge");
  w.say(`${tag} PR #${pr} merged → ${issue.identifier} is "${w.linear.stateName(issue.id)}", with the PR link and the total cost in a comment`);
}

/** The `clarify` issue: the question in Linear, the demo's answer as a reply, then a PR built on it. */
async function clarifyStory(w: DemoWorld, issue: DemoIssue): Promise<void> {
  const tag = `[${issue.identifier}]`;
  const waiting = await waitTask(w, issue.id, (t) => t.state === "needs-input" && Boolean(t.clarification?.commentId), "the clarification question");
  const asked = waiting.clarification;
  w.say(`${tag} ${triageLine(waiting)} → asks ${asked?.askedOf ?? "the issue's creator"} in a Linear comment, holds no agent slot, "Needs you" on the dashboard:`);
  for (const q of asked?.questions ?? []) w.say(`${tag}    ? ${q}`);
  await showNeedsYou(w);
  const answer = "Goodbye, <name>! please, in a file of its own (farewell.js).";
  const reply = w.linear.addHumanComment({ issueId: issue.id, body: answer, parentId: asked?.commentId ?? null });
  await w.sendLinear(commentCreated({ comment: reply, issue, user: w.linear.ada, team: w.linear.team }));
  w.say(`${tag} ${w.linear.ada.name} replies in Linear: "${answer}" → a signed Comment webhook resumes the same task`);
  const task = await waitTask(w, issue.id, (t) => t.state === "pr-open", "the clarified pull request");
  w.say(`${tag} re-triaged ${task.triage?.verdict} with the answer in the spec: PR #${task.prNumber} adds farewell.js as answered (${task.turns} turns, ${usd(task.costUsd)})`);
  await mergePr(w, task);
  await waitTask(w, issue.id, (t) => t.state === "merged", "the clarified merge");
  w.say(`${tag} PR #${task.prNumber} merged → ${issue.identifier} is "${w.linear.stateName(issue.id)}"`);
}

/** The `split` issue: the manager's plan, sub-issues in dependency order, merged, rolled up. */
async function splitStory(w: DemoWorld, issue: DemoIssue): Promise<void> {
  const tag = `[${issue.identifier}]`;
  const proposed = await waitTask(w, issue.id, (t) => t.state === "needs-input" && Boolean(t.plan?.approvalCommentId), "the manager's proposal");
  w.say(`${tag} ${triageLine(proposed)} → the manager proposes ${proposed.plan?.subtasks.length} sub-issues in a Linear comment and waits for approval ("Needs you"):`);
  for (const s of proposed.plan?.subtasks ?? []) w.say(`${tag}    ${s.key} "${s.title}"${s.dependsOn.length ? ` after ${s.dependsOn.join(" and ")}` : ""}`);
  await showNeedsYou(w);
  const approval = w.linear.addHumanComment({ issueId: issue.id, body: "approve", parentId: proposed.plan?.approvalCommentId ?? null });
  await w.sendLinear(commentCreated({ comment: approval, issue, user: w.linear.ada, team: w.linear.team }));
  w.say(`${tag} ${w.linear.ada.name} replies "approve" → the manager creates the sub-issues`);
  let parent = await waitTask(w, issue.id, (t) => t.plan?.status === "created", "the sub-issues");
  const plan = parent.plan;
  w.say(`${tag} created in Linear under ${issue.identifier}, approved by ${plan?.approvedBy ?? "Ada"}:`);
  const subs = plan?.subtasks ?? [];
  for (const s of subs) {
    const after = s.dependsOn.map((k) => subs.find((x) => x.key === k)?.identifier ?? k);
    w.say(`${tag}    ${s.identifier} "${s.title}"${after.length ? `, blocked by ${after.join(" and ")}` : ", starts now"}`);
  }
  w.say(`${tag} Linear now holds ${w.linear.childrenOf(issue.id).length} sub-issues of ${issue.identifier} and ${w.linear.relations.size} "blocks" relations`);
  await Promise.all(
    subs.map(async (s) => {
      const child = await waitTask(w, s.issueId as string, (t) => t.state === "pr-open", `${s.identifier}'s pull request`);
      const notes = child.transfer?.notes ? `, ${child.transfer.notes} of them its blockers' hand-off notes` : "";
      w.say(`[${s.identifier}] sub-issue PR #${child.prNumber} (${child.turns} turns, ${usd(child.costUsd)}); it received ${child.transfer?.tokens ?? 0} tokens from others${notes} → grace merges it`);
      await mergePr(w, child);
      await waitTask(w, s.issueId as string, (t) => t.state === "merged", `${s.identifier}'s merge`);
    }),
  );
  parent = await waitTask(w, issue.id, (t) => t.state === "done", "the parent to be done");
  w.say(`${tag} every sub-issue merged → the parent is "${w.linear.stateName(issue.id)}" in Linear; its roll-up comment, edited in place:`);
  const rollup = () => w.linear.comments.get(parent.plan?.rollupCommentId ?? "")?.body ?? "";
  // The parent is done a moment before the roll-up's last edit lands.
  await waitUntil(w, () => rollup().includes(`${subs.length} of ${subs.length}`), 10_000);
  for (const line of rollup().split("\n").filter(Boolean).slice(0, 12)) w.say(`${tag}    ${line}`);
}

/** LOG_LEVEL=debug: every task's state and step as they change (to see where the time goes). */
function traceSteps(w: DemoWorld, tasks: Task[], seen: Map<string, string>): void {
  for (const t of tasks) {
    const now = `${t.state}${t.step ? ` (${t.step})` : ""}`;
    if (seen.get(t.identifier) === now) continue;
    seen.set(t.identifier, now);
    w.say(`  trace ${t.identifier}: ${now}`);
  }
}

/** Prints what the dashboard shows whenever more agents work at once than before. */
function watchDashboard(w: DemoWorld): () => void {
  let most = 1;
  let stopped = false;
  const trace = new Map<string, string>();
  void (async () => {
    while (!stopped) {
      const tasks = await w.tasks.list(200).catch(() => [] as Task[]);
      const working = tasks.filter((t) => WORKING.has(t.state));
      if (w.trace) traceSteps(w, tasks, trace);
      if (working.length > most) {
        most = working.length;
        w.say(`[dashboard] ${working.length} agents at work: ${working.map((t) => t.identifier).sort().join(", ")}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return () => void (stopped = true);
}

/** Hands over the three issues at once and plays their stories side by side. */
export async function playStories(w: DemoWorld): Promise<void> {
  const ready = w.linear.addIssue({ title: "Greet people by name", description: "`greet()` always says Hello!. It should take a name and say `Hello, <name>!`." });
  const clarify = w.linear.addIssue({ title: "Say goodbye too", description: "People should be able to say goodbye as well as hello." });
  const split = w.linear.addIssue({
    title: "Greet in French and Spanish",
    description: "Greet people in French and Spanish as well as English, and pick the language from the LANG environment variable.",
  });
  for (const issue of [ready, clarify, split]) await w.sendLinear(labelAdded(issue, w.linear.team, w.linear.agentLabel));
  w.say(`${ready.identifier}, ${clarify.identifier} and ${split.identifier} are labelled agent in Linear at once → signed webhooks queue three implement jobs; each is triaged first`);
  const stop = watchDashboard(w);
  try {
    await Promise.all([readyStory(w, ready), clarifyStory(w, clarify), splitStory(w, split)]);
  } finally {
    stop();
  }
  const tasks = await w.tasks.list(200);
  const st = stateTransfer(tasks);
  const share = st.share === null ? "n/a" : `${(st.share * 100).toFixed(1)}%`;
  const cost = tasks.reduce((n, t) => n + t.costUsd, 0);
  w.say(`[dashboard] state transfer: ${st.tokens} of ${st.inputTokens} input tokens (${share}) went to handing work between agents; ${tasks.length} tasks, ${usd(cost)} in all`);
}
