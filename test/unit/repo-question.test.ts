import { describe, expect, it } from "vitest";
import { matchRepoAnswer } from "../../src/routing/repo-answer.js";
import { routeOrAsk } from "../../src/routing/route-or-ask.js";
import { parseRouting } from "../../src/routing/routing-config.js";
import { renderSession } from "../../src/status/linear-session.js";
import { renderRepoElicitation } from "../../src/status/repo-elicitation.js";
import { newTask, type RepoQuestion } from "../../src/tasks/task.js";

const CANDIDATES = ["acme/gadgets", "acme/widgets", "other/widgets-legacy"];

describe("matchRepoAnswer", () => {
  it.each([
    ["acme/widgets", "acme/widgets"],
    ["ACME/Widgets", "acme/widgets"],
    ["  `acme/gadgets`.  ", "acme/gadgets"],
    ['"acme/gadgets"', "acme/gadgets"],
    ["https://github.com/acme/widgets", "acme/widgets"],
    ["https://github.com/Acme/Widgets.git", "acme/widgets"],
    ["<https://github.com/acme/gadgets/tree/main/src>", "acme/gadgets"],
    ["https://ghe.example.com/acme/widgets/pull/3", "acme/widgets"],
    ["github.com/acme/gadgets", "acme/gadgets"],
    ["gadg", "acme/gadgets"],
    ["legacy", "other/widgets-legacy"],
    ["Use acme/widgets please", "acme/widgets"],
    ["the gadgets repo, thanks", "acme/gadgets"],
    ["Please use https://github.com/acme/gadgets for this", "acme/gadgets"],
  ])("%j → %s", (answer, repo) => {
    expect(matchRepoAnswer(answer, CANDIDATES)).toEqual({ kind: "match", repo });
  });

  it("a fragment or sentence that fits several names asks which, rather than picking one", () => {
    expect(matchRepoAnswer("widgets", CANDIDATES)).toEqual({ kind: "ambiguous", among: ["acme/widgets", "other/widgets-legacy"] });
    expect(matchRepoAnswer("acme", CANDIDATES)).toEqual({ kind: "ambiguous", among: ["acme/gadgets", "acme/widgets"] });
    expect(matchRepoAnswer("either gadgets or widgets", CANDIDATES)).toEqual({ kind: "ambiguous", among: ["acme/gadgets", "acme/widgets"] });
  });

  it("matches nothing for an unknown name, another repository's URL, an empty or one-letter answer", () => {
    for (const answer of ["the blue one", "acme/unknown", "https://github.com/acme/unknown", "https://github.com/acme", "", "   ", "g", "yes"]) {
      expect(matchRepoAnswer(answer, CANDIDATES), answer).toEqual({ kind: "none" });
    }
    expect(matchRepoAnswer("acme/widgets", [])).toEqual({ kind: "none" });
  });
});

describe("routeOrAsk", () => {
  const routing = parseRouting(
    {
      repos: { "acme/widgets": {}, "acme/gadgets": {} },
      routes: [
        { team: "ENG", repo: "acme/widgets" },
        { team: "ENG", repo: "acme/gadgets" },
        { project: "Billing", repo: "acme/billing" },
      ],
    },
    undefined,
  );
  const issue = (p: { team?: string; project?: string; labels?: string[] }) => ({ teamKey: p.team ?? "OPS", projectName: p.project ?? null, labelNames: p.labels ?? [] });

  it("asks with every allowed repository when nothing routes the issue", () => {
    expect(routeOrAsk(issue({}), routing, null)).toEqual({
      ok: false,
      ask: { candidates: ["acme/billing", "acme/gadgets", "acme/widgets"], why: "no `repo:` label, project route or team route names a repository for it, and no DEFAULT_REPO is set" },
    });
  });

  it("asks among the repositories when routes or labels name several", () => {
    expect(routeOrAsk(issue({ team: "ENG" }), routing, null)).toMatchObject({ ask: { candidates: ["acme/gadgets", "acme/widgets"], why: "the routes for team ENG name several repositories" } });
    expect(routeOrAsk(issue({ labels: ["repo:acme/widgets", "repo:acme/billing"] }), routing, null)).toMatchObject({ ask: { candidates: ["acme/billing", "acme/widgets"] } });
    expect(routeOrAsk(issue({ labels: ["repo:evil/elsewhere"] }), routing, null)).toMatchObject({ ask: { why: "the label `repo:evil/elsewhere` names a repository agents may not work in" } });
  });

  it("routes without asking where one repository is named, as routeIssue does", () => {
    expect(routeOrAsk(issue({ project: "Billing", team: "ENG" }), routing, null)).toMatchObject({ ok: true, repo: { owner: "acme", name: "billing" } });
    expect(routeOrAsk(issue({ labels: ["repo:ACME/gadgets"] }), routing, null)).toMatchObject({ ok: true, repo: { name: "gadgets" } });
    expect(routeOrAsk(issue({}), parseRouting({}, "acme/fallback"), null)).toMatchObject({ ok: true, via: "DEFAULT_REPO" });
  });

  it("a remembered choice settles it without asking again; an explicit label still wins", () => {
    const chosen = { ok: true, repo: { owner: "acme", name: "gadgets" }, via: "the repository chosen in the agent session" };
    expect(routeOrAsk(issue({}), routing, "acme/gadgets")).toMatchObject(chosen);
    expect(routeOrAsk(issue({ team: "ENG" }), routing, "ACME/gadgets")).toMatchObject(chosen);
    expect(routeOrAsk(issue({ project: "Billing" }), routing, "acme/gadgets")).toMatchObject(chosen);
    expect(routeOrAsk(issue({ labels: ["repo:acme/widgets", "repo:acme/gadgets"] }), routing, "acme/gadgets")).toMatchObject(chosen);
    expect(routeOrAsk(issue({ labels: ["repo:acme/widgets"] }), routing, "acme/gadgets")).toMatchObject({ ok: true, repo: { name: "widgets" } });
    // A choice the configuration no longer allows is not used.
    expect(routeOrAsk(issue({}), routing, "acme/removed")).toMatchObject({ ask: { candidates: ["acme/billing", "acme/gadgets", "acme/widgets"] } });
  });

  it("cannot ask when no repository is allowed at all", () => {
    expect(routeOrAsk(issue({}), parseRouting({}, undefined), null)).toMatchObject({ ok: false, reason: expect.stringContaining("No repository is configured") });
  });
});

describe("renderRepoElicitation", () => {
  const question: RepoQuestion = { candidates: ["acme/gadgets", "acme/widgets"], why: "no route names a repository for it", key: "job:1", askedAt: "2026-01-01T00:00:00.000Z" };

  it("says why it asks and offers each candidate as a select option", () => {
    expect(renderRepoElicitation(question, "ENG-7")).toEqual({
      body: [
        "Which repository should I work in for ENG-7? I'm asking rather than guessing because no route names a repository for it.",
        "",
        "- `acme/gadgets`",
        "- `acme/widgets`",
        "",
        "Pick one, or reply with its `owner/name` or GitHub URL. I'll remember the choice for this issue.",
      ].join("\n"),
      signalMetadata: { options: [{ label: "acme/gadgets", value: "acme/gadgets" }, { label: "acme/widgets", value: "acme/widgets" }] },
    });
  });

  it("says what the last answer failed to match, quoted safely and shortened", () => {
    const none = renderRepoElicitation({ ...question, unmatched: { answer: "the *blue*\none", among: [] } }, "ENG-7");
    expect(none.body.split("\n")[0]).toBe('"the blue one" does not match any repository I may work in.');
    const several = renderRepoElicitation({ ...question, unmatched: { answer: "acme", among: ["acme/gadgets", "acme/widgets"] } }, "ENG-7");
    expect(several.body.split("\n")[0]).toBe('"acme" could be any of `acme/gadgets`, `acme/widgets`, so I did not pick one.');
    const long = renderRepoElicitation({ ...question, unmatched: { answer: "x".repeat(200), among: [] } }, "ENG-7");
    expect(long.body.split("\n")[0]).toBe(`"${"x".repeat(77)}..." does not match any repository I may work in.`);
  });

  it("is the session's closing elicitation while the task waits, keyed by what asked", () => {
    const task = { ...newTask({ issueId: "i1", identifier: "ENG-7", title: "t", issueUrl: null, now: "2026-01-01T00:00:00.000Z" }), state: "needs-input" as const, repoQuestion: question };
    const view = renderSession(task);
    expect(view.ended).toMatchObject({ key: "ask-repo:job:1", content: { type: "elicitation" }, signal: "select", signalMetadata: { options: [{ value: "acme/gadgets" }, { value: "acme/widgets" }] } });
    expect(view.thought).toBeNull();
    expect(view.plan[0]).toEqual({ content: "Route to a repository: waiting for your choice", status: "inProgress" });
  });
});
