import { describe, expect, it } from "vitest";
import { classifyFeedback, mentions } from "../../jobs/feedback-rules.js";
import type { FeedbackJobData } from "../../jobs/queues.js";
import { parseReplies, withoutReplies } from "../../src/agent/prompts.js";

const base: FeedbackJobData = {
  kind: "feedback",
  repo: { owner: "acme", name: "widgets" },
  prNumber: 1,
  event: "issue_comment",
  commentId: 1,
  body: "",
  htmlUrl: "https://github.com/acme/widgets/pull/1#issuecomment-1",
  author: { login: "grace", type: "User", association: "MEMBER" },
  review: null,
  location: null,
  source: { delivery: "d", receivedAt: "2026-11-21T00:00:00Z" },
};

describe("feedback rules", () => {
  it("recognises the handle as a word, case-insensitively", () => {
    expect(mentions("@agent please rename", "@agent")).toBe(true);
    expect(mentions("Thanks @Agent!", "@agent")).toBe(true);
    expect(mentions("ping @agents-team", "@agent")).toBe(false);
    expect(mentions("mail me at x@agent.io", "@agent")).toBe(false);
  });

  it("changes requested and mentions trigger; inline comments are collected; discussion is not", () => {
    expect(classifyFeedback({ ...base, event: "pull_request_review", review: { id: 5, state: "changes_requested" } }, "@agent")).toMatchObject({
      revise: true,
    });
    expect(classifyFeedback({ ...base, body: "@agent fix the typo" }, "@agent")).toMatchObject({ revise: true });
    expect(classifyFeedback({ ...base, event: "pull_request_review_comment", body: "nit" }, "@agent")).toMatchObject({
      revise: false,
      collect: true,
    });
    expect(classifyFeedback({ ...base, body: "LGTM, waiting for QA" }, "@agent")).toMatchObject({ revise: false, collect: false });
    expect(classifyFeedback({ ...base, event: "pull_request_review", review: { id: 5, state: "approved" }, body: "nice" }, "@agent")).toMatchObject({
      revise: false,
    });
  });

  it("reads the agent's per-thread replies and strips them from the summary", () => {
    const report = "## Summary\nDone.\n## Replies\n- 11: Renamed.\n* #12 — Kept as is, see docs.\n";
    expect([...parseReplies(report)]).toEqual([
      [11, "Renamed."],
      [12, "Kept as is, see docs."],
    ]);
    expect(withoutReplies(report)).toBe("## Summary\nDone.");
  });
});
