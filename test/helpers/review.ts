import { expect } from "vitest";
import { create, say } from "./turns.js";
import { OWNER, REPO, type World } from "./world.js";

/** The reviewer of the review-loop tests: a collaborator with write permission, so may direct the agent. */
export const REVIEWER = { login: "grace", association: "COLLABORATOR" as const };

/** Labels a new issue and lets the agent open its PR (greet.txt edited, `report` as its report). */
export async function implemented(w: World, report: string) {
  w.github.setPermission(OWNER, REPO, REVIEWER.login, "write");
  const issue = w.newIssue();
  w.anthropic.script([create("greet.txt", "hello, world\n"), say(report)]);
  const res = await w.labelIssue(issue);
  expect(await w.waitForJob(res.body.jobId as string)).toBe("completed");
  const task = await w.deps.tasks.get(issue.id);
  return { issue, pr: task?.prNumber as number };
}
