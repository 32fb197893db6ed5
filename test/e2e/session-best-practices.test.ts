import { afterEach, describe, expect, it } from "vitest";
import type { FakeIssue } from "../fakes/linear/index.js";
import { delegate, ofType } from "../helpers/sessions.js";
import { create, say } from "../helpers/turns.js";
import { startWorld, type World } from "../helpers/world.js";

const REPORT = "## Summary\ngreet.txt now says hello, world.\n## Files\ngreet.txt\n## Decisions\nnone\n## Open points\nnone";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** The states `issue` was moved to, in order, by the service's issue updates. */
function movesOf(w: World, issue: FakeIssue): string[] {
  return w.linear.requests
    .filter((r) => r.operationName === "updateIssue" && r.variables.id === issue.id)
    .map((r) => w.linear.store.workflowStates.get((r.variables.input as { stateId: string }).stateId)?.name ?? "?");
}

function putInState(w: World, issue: FakeIssue, name: string): void {
  const state = w.linear.store.statesFor(w.team.id).find((s) => s.name === name);
  if (!state) throw new Error(`no state ${name}`);
  w.linear.store.getIssue(issue.id)!.stateId = state.id;
}

describe("Linear's agent best practices on the session path", () => {
  it("an unstarted delegated issue moves to the started state with the lowest position; a started one stays; the assignee is never touched", async () => {
    world = await startWorld();
    const w = world;
    // A second started state ahead of In Progress: the lowest position wins, not the first by name or age.
    w.linear.store.seedWorkflowState({ teamId: w.team.id, name: "Doing", type: "started", position: -1 });
    const human = w.linear.store.seedUser({ name: "Jane Doe" });

    const backlog = w.newIssue({ title: "Greet from the backlog", labels: [] });
    putInState(w, backlog, "Backlog");
    w.linear.store.getIssue(backlog.id)!.assigneeId = human.id;
    w.anthropic.script([create("greet.txt", "hello, world\n"), say(REPORT)]);
    const first = await delegate(w, backlog);
    expect(await w.waitForJob(first.res.body.jobId as string)).toBe("completed");
    expect(movesOf(w, backlog)).toEqual(["Doing", "In Review"]);
    expect(w.linear.store.getIssue(backlog.id)).toMatchObject({ assigneeId: human.id, delegateId: w.linear.store.viewerId });

    // Already started (someone put it In Progress): not moved back to the first started state.
    const started = w.newIssue({ title: "Greet while in progress", labels: [] });
    putInState(w, started, "In Progress");
    w.anthropic.script([create("greet.txt", "hello, world\n"), say(REPORT)]);
    const second = await delegate(w, started);
    expect(await w.waitForJob(second.res.body.jobId as string)).toBe("completed");
    expect(movesOf(w, started)).toEqual(["In Review"]);
    expect(w.linear.requests.filter((r) => r.operationName === "updateIssue" && "assigneeId" in (r.variables.input as object))).toEqual([]);
  });

  it("a run that fails ends its session with one `error` (no response); a question ends it with an `elicitation`", async () => {
    world = await startWorld();
    const w = world;
    const failing = w.newIssue({ title: "Greet with nothing to do", labels: [] });
    w.anthropic.script([say("I looked at greet.txt and changed nothing.")]);
    const failed = await delegate(w, failing);
    expect(await w.waitForJob(failed.res.body.jobId as string)).toBe("failed");
    await w.waitFor(() => ofType(w, failed.sessionId, "error").length > 0, "the session's error");
    const errors = ofType(w, failed.sessionId, "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]?.content.body).toMatch(/^The agent could not finish: The agent finished without changing any file\. No pull request was opened\./);
    expect(ofType(w, failed.sessionId, "response")).toHaveLength(0);
    expect(w.linear.store.agentSessions.get(failed.sessionId)?.status).toBe("error");

    const asking = w.newIssue({ title: "Greet whom?", labels: [] });
    w.anthropic.script([say("Should the greeting be in English or in French?")]);
    const asked = await delegate(w, asking);
    expect(await w.waitForJob(asked.res.body.jobId as string)).toBe("completed");
    await w.waitFor(() => ofType(w, asked.sessionId, "elicitation").length > 0, "the session's elicitation");
    expect(ofType(w, asked.sessionId, "elicitation").map((a) => a.content.body)).toEqual(["Should the greeting be in English or in French?"]);
    expect(ofType(w, asked.sessionId, "error")).toHaveLength(0);
    expect(w.linear.store.agentSessions.get(asked.sessionId)?.status).toBe("awaitingInput");
  });
});
