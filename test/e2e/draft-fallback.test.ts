import { afterEach, describe, expect, it } from "vitest";
import { prCommentCreated } from "../fixtures/github-events.js";
import { create, say } from "../helpers/turns.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function onlyPull(w: World) {
  const { data } = await w.octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: "all" });
  expect(data).toHaveLength(1);
  return data[0] as (typeof data)[number];
}

describe("a repository without draft pull requests (GitHub Free, private)", () => {
  it("failing checks open a normal PR titled [WIP]; a revision whose checks pass drops the marker", async () => {
    world = await startWorld({ env: { AGENT_CHECK_ROUNDS: "0", REVISION_DEBOUNCE_MS: "50" } });
    const w = world;
    w.github.setDraftsSupported(OWNER, REPO, false);
    w.github.setPermission(OWNER, REPO, "grace", "write");
    const issue = w.newIssue({ title: "Greet the world" });

    // The agent breaks the project's check (greet.txt must say hello).
    w.anthropic.script([create("greet.txt", "goodbye\n"), say("## Summary\nChanged the greeting.")]);
    expect(await w.waitForJob((await w.labelIssue(issue)).body.jobId as string)).toBe("completed");
    const opened = await onlyPull(w);
    expect(opened).toMatchObject({ draft: false, title: `[WIP] ${issue.identifier}: Greet the world` });
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "pr-open", prNumber: opened.number, checks: { passed: false } });

    // A reviewer asks for the fix; the revision passes the checks and the PR is ready.
    w.anthropic.script([create("greet.txt", "hello, world\n"), say("## Summary\nRestored hello.")]);
    const res = await w.sendGitHub(
      "issue_comment",
      prCommentCreated({ owner: OWNER, repo: REPO, pr: opened.number, id: 8101, body: "@agent the check fails, say hello", by: { login: "grace", association: "COLLABORATOR" } }),
    );
    expect(await w.waitForJob(res.body.jobId, "feedback")).toBe("completed");
    await w.waitFor(async () => (await w.deps.queues.revise.getJobCounts("completed")).completed === 1, "the revision");
    const ready = await onlyPull(w);
    expect(ready).toMatchObject({ number: opened.number, state: "open", draft: false, title: `${issue.identifier}: Greet the world` });
    expect(w.github.requests.some((r) => r.path === "/graphql")).toBe(false);
  });
});
