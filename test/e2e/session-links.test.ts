import { afterEach, describe, expect, it } from "vitest";
import { delegate, ofType } from "../helpers/sessions.js";
import { create, say } from "../helpers/turns.js";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("the session's external URLs", () => {
  it("with PUBLIC_URL, the dashboard (filtered to the task's repository) joins the pull request, each added once", async () => {
    world = await startWorld({ env: { PUBLIC_URL: "https://agents.example.com/" } });
    const w = world;
    const issue = w.newIssue({ labels: [] });
    w.anthropic.script([create("greet.txt", "hello, world\n"), say("## Summary\nDone.")]);
    const { sessionId, res } = await delegate(w, issue);
    expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");
    await w.waitFor(() => ofType(w, sessionId, "response").length > 0, "the response");
    const { data: pulls } = await w.octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: "open" });
    expect(w.linear.store.agentSessions.get(sessionId)?.externalLinks).toEqual([
      { label: "Dashboard", url: `https://agents.example.com/?repo=${encodeURIComponent(`${OWNER}/${REPO}`)}` },
      { label: "Pull request", url: pulls[0]?.html_url },
    ]);
    // Each URL went out once, with a plan update rather than in a request of its own.
    const updates = w.linear.requests.filter((r) => r.operationName === "updateAgentSession");
    const added = updates.flatMap((r) => ((r.variables.input as { addedExternalUrls?: Array<{ url: string }> }).addedExternalUrls ?? []).map((u) => u.url));
    expect(added).toHaveLength(2);
    expect(updates.filter((r) => (r.variables.input as { addedExternalUrls?: unknown }).addedExternalUrls).every((r) => (r.variables.input as { plan?: unknown }).plan)).toBe(true);
  });
});
