import { afterEach, describe, expect, it } from "vitest";
import { OWNER, REPO, startWorld, type World } from "../helpers/world.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("repo: labels", () => {
  it("a label naming a repository outside the routing file gets a comment and no agent run", async () => {
    world = await startWorld();
    const w = world;
    // The token can see the other repository too, so only routing stops the agent from going there.
    w.github.addRepo({ owner: OWNER, name: "elsewhere", cloneUrl: w.remote.url, defaultBranch: "main" });
    const other = w.linear.store.seedLabel({ name: `repo:${OWNER}/elsewhere` });
    const issue = w.newIssue({ labels: [w.agentLabel, other] });
    const res = await w.labelIssue(issue);
    const outcome = await w.waitForJob(res.body.jobId as string);
    expect(w.anthropic.requests).toHaveLength(0);
    expect(outcome).toBe("completed");
    const bodies = w.linear.store.commentsFor(issue.id).map((c) => c.body);
    const refusal = bodies.find((b) => b.includes(`repo:${OWNER}/elsewhere`));
    expect(refusal).toContain(`allowed: ${OWNER}/${REPO}`);
    expect(refusal).toContain("AGENT_WORKFORCE_CONFIG");
    expect(await w.deps.tasks.get(issue.id)).toMatchObject({ state: "failed" });
    expect((await w.octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: "all" })).data).toHaveLength(0);
  });
});
