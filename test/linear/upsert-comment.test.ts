import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLinearClient } from "../../src/linear/client.js";
import { upsertComment } from "../../src/linear/comments.js";
import { type FakeIssue, type LinearFake, startLinearFake } from "../fakes/linear/index.js";

let fake: LinearFake;
let issue: FakeIssue;
beforeEach(async () => {
  fake = await startLinearFake({ apiKey: "lin_api_upsert_comment" });
  const team = fake.store.seedTeam({ key: "ENG", name: "Engineering" });
  issue = fake.store.seedIssue({ teamId: team.id, title: "Raced" });
});
afterEach(async () => {
  await fake.close();
});

const client = () => createLinearClient({ apiKey: fake.apiKey, apiUrl: fake.url, baseDelayMs: 20 });
const commentsOn = (issueId: string) => [...fake.store.comments.values()].filter((c) => c.issueId === issueId);

describe("upsertComment", () => {
  it("edits the comment another writer created between its failed edit and its create (two jobs racing for one issue)", async () => {
    const commentId = randomUUID();
    let raced = false;
    // The first edit finds nothing; before it is answered, a second job creates the comment.
    fake.beforeAnswer = async (operation) => {
      if (operation !== "updateComment" || raced) return;
      raced = true;
      await client().createComment({ id: commentId, issueId: issue.id, body: "written by the other job" });
    };
    await upsertComment(client(), { issueId: issue.id, commentId, body: "written by this job" });
    expect(raced).toBe(true);
    const comments = commentsOn(issue.id);
    expect(comments.map((c) => c.id)).toEqual([commentId]);
    expect(comments[0]?.body).toBe("written by this job");
  });

  it("still refuses a create Linear rejects for another reason", async () => {
    await expect(upsertComment(client(), { issueId: randomUUID(), commentId: randomUUID(), body: "on no issue" })).rejects.toThrow();
  });
});
