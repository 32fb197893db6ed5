import { afterEach, describe, expect, it } from "vitest";
import type { ImplementJobData, ReviseJobData } from "../../jobs/queues.js";
import { safeJobId } from "../../jobs/queues.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { seedTask } from "./seed.js";

// Jobs still in their queue, not yet taken by any worker, have no task record (or only the
// finished one of an earlier attempt); the dashboard shows them anyway, with why they wait.

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** An implement job as the Linear webhook enqueues it. */
function implementJob(id: string, title: string): ImplementJobData {
  const now = new Date().toISOString();
  return {
    kind: "implement",
    issueId: id,
    identifier: id.toUpperCase(),
    title,
    teamId: "team-1",
    teamKey: "ENG",
    projectName: null,
    labelNames: ["agent"],
    url: `https://linear.app/acme/issue/${id.toUpperCase()}`,
    eventAt: now,
    source: { delivery: "d-1", receivedAt: now, actor: null },
  };
}

const rowOf = (html: string, issue: string) => new RegExp(`<tr data-issue="${issue}" data-state="([^"]+)">(.*?)</tr>`, "s").exec(html);

describe("jobs no worker has picked up yet", () => {
  it("show on the page and in the JSON as queued, waiting for a free worker; a revision waiting for one says so on its task", async () => {
    t = await startTestApp();
    const { deps } = t;
    // A new issue's job, and a new attempt of an issue whose last one failed.
    await deps.queues.implement.add("implement", implementJob("eng-7", "Add a <b>health</b> endpoint"), { jobId: safeJobId("implement", "eng-7") });
    await seedTask(deps.tasks, { id: "eng-8", state: "failed", patch: { error: "checks failed" } });
    await deps.queues.implement.add("implement", implementJob("eng-8", "Task eng-8"), { jobId: safeJobId("implement", "eng-8", "2") });
    // A revision waiting for a worker, and one still collecting feedback (debounced).
    await seedTask(deps.tasks, { id: "eng-9", state: "pr-open" }, 9);
    await seedTask(deps.tasks, { id: "eng-10", state: "pr-open" }, 10);
    const revise = (id: string, pr: number): ReviseJobData => ({ kind: "revise", issueId: id, repo: { owner: "acme", name: "widgets" }, prNumber: pr });
    await deps.queues.revise.add("revise", revise("eng-9", 9));
    await deps.queues.revise.add("revise", revise("eng-10", 10), { delay: 60_000 });

    const html = (await t.app.inject({ url: "/", headers: { accept: "text/html" } })).body;
    const fresh = rowOf(html, "eng-7");
    expect(fresh?.[1]).toBe("queued");
    expect(fresh?.[2]).toContain("Add a &lt;b&gt;health&lt;/b&gt; endpoint");
    expect(fresh?.[2]).toContain('<div class="detail" title="waiting for a free worker">');
    expect(rowOf(html, "eng-8")?.[1]).toBe("queued");
    expect(rowOf(html, "eng-8")?.[2]).toContain("waiting for a free worker");
    expect(rowOf(html, "eng-9")?.[1]).toBe("pr-open");
    expect(rowOf(html, "eng-9")?.[2]).toContain("revision waiting for a free worker");
    expect(rowOf(html, "eng-10")?.[2]).not.toContain("waiting for a free worker");

    const json = (await t.app.inject({ url: "/api/tasks" })).json() as { figures: { queued: number }; tasks: Array<{ issueId: string; state: string; step: string | null }>; needsYou: Array<{ issueId: string }> };
    expect(json.figures.queued).toBe(2);
    expect(json.tasks.filter((x) => x.state === "queued").map((x) => [x.issueId, x.step])).toEqual([
      ["eng-7", "waiting: waiting for a free worker"],
      ["eng-8", "waiting: waiting for a free worker"],
    ]);
    // The failed attempt is being retried, so it no longer needs anyone.
    expect(json.needsYou.map((n) => n.issueId)).not.toContain("eng-8");

    // Nothing was written: the view only reads the queues.
    expect(await deps.tasks.get("eng-7")).toBeNull();
    expect((await deps.tasks.get("eng-8"))?.state).toBe("failed");
  });
});
