// Chaos: ≥100 implement jobs while worker processes are SIGKILLed and replaced at random.
// Prints jobs created, completed, duplicates (extra PRs/comments/attachments), lost jobs and
// recovery figures; exits non-zero on any duplicate or loss.
import { parseArgs } from "node:util";
import type { ScriptedTurn } from "../fakes/anthropic/index.js";
import { type ChildWorker, startChildWorkers } from "../helpers/child-workers.js";
import { OWNER, REPO, startWorld } from "../helpers/world.js";

const { values } = parseArgs({
  options: { jobs: { type: "string", default: "100" }, workers: { type: "string", default: "3" }, "timeout-s": { type: "string", default: "600" } },
});
const jobCount = Number(values.jobs);
const workerCount = Number(values.workers);
const deadline = Date.now() + Number(values["timeout-s"]) * 1000;

const world = await startWorld({
  startWorkers: false,
  env: { JOB_LOCK_MS: "1500", JOB_STALLED_INTERVAL_MS: "500", AGENT_CONCURRENCY: "4", RECONCILE_INTERVAL_MS: "0" },
  routing: { repos: { [`${OWNER}/${REPO}`]: { checkCommand: "sh check.sh", maxAgents: 12 } } },
});
const responder = (req: any): ScriptedTurn => {
  const id = /<issue id="([^"]+)"/.exec(req.messages[0].content[0].text)?.[1] ?? "x";
  return req.messages.length === 1
    ? { content: [{ type: "tool_use", name: "bash", input: { command: `sleep 0.3 && printf 'hello, world\\n${id}\\n' > greet.txt` } }] }
    : { content: [{ type: "text", text: `## Summary\nDone ${id}.` }] };
};
world.anthropic.script(Array.from({ length: jobCount * 20 }, () => responder));
const children = await startChildWorkers(workerCount, world.env);

const issues = Array.from({ length: jobCount }, (_, i) => world.newIssue({ title: `Chaos ${i + 1}` }));
const started = Date.now();
const jobIds = [];
for (const issue of issues) jobIds.push((await world.labelIssue(issue)).body.jobId as string);

let kills = 0;
const alive: ChildWorker[] = [...children.workers];
const killer = (async () => {
  while (Date.now() < deadline) {
    const counts = await world.deps.queues.implement.getJobCounts("completed", "failed");
    if ((counts.completed ?? 0) + (counts.failed ?? 0) >= jobCount) return;
    await new Promise((r) => setTimeout(r, 1000 + Math.random() * 2000));
    const victim = alive.splice(Math.floor(Math.random() * alive.length), 1)[0];
    if (!victim) continue;
    victim.kill("SIGKILL");
    kills += 1;
    alive.push(await children.add());
  }
})();
await killer;
const finishedAt = Date.now();

const counts = await world.deps.queues.implement.getJobCounts("completed", "failed", "active", "waiting", "delayed");
const allPulls = await world.octokit.paginate(world.octokit.rest.pulls.list, { owner: OWNER, repo: REPO, state: "all", per_page: 100 });
const branches = new Map<string, number>();
for (const p of allPulls) branches.set(p.head.ref, (branches.get(p.head.ref) ?? 0) + 1);
const duplicatePrs = [...branches.values()].filter((n) => n > 1).length;
const extraComments = issues.filter((i) => world.linear.store.commentsFor(i.id).length > 1).length;
const extraAttachments = issues.filter((i) => world.linear.store.attachmentsFor(i.id).length > 1).length;
const lost = issues.filter((i) => !branches.has(`agent/${i.identifier.toLowerCase()}`)).length;
const rows = [
  ["jobs created", String(jobIds.length)],
  ["worker kills (SIGKILL)", String(kills)],
  ["jobs completed / failed", `${counts.completed} / ${counts.failed}`],
  ["pull requests", String(allPulls.length)],
  ["duplicate PRs", String(duplicatePrs)],
  ["issues with >1 progress comment", String(extraComments)],
  ["issues with >1 attachment", String(extraAttachments)],
  ["lost jobs (no PR)", String(lost)],
  ["time to finish all jobs", `${((finishedAt - started) / 1000).toFixed(1)} s`],
];
process.stdout.write(`\nkill-workers chaos\n${rows.map(([k, v]) => `  ${String(k).padEnd(34)} ${v}`).join("\n")}\n`);
await children.close();
await world.close();
const ok = duplicatePrs === 0 && extraComments === 0 && extraAttachments === 0 && lost === 0 && counts.failed === 0;
process.stdout.write(ok ? "kill-workers: PASS\n" : "kill-workers: FAIL\n");
process.exit(ok ? 0 : 1);
