import type { LinearClient } from "@linear/sdk";
import type { PlannedSubtask, SplitPlan } from "../../src/tasks/task.js";

/** A sub-issue as Linear shows it under its parent now. */
export interface LinearChild {
  id: string;
  identifier: string;
  title: string;
  url: string | null;
  state: { type: string; name: string };
  /** The names of its labels (whether it carries the agent label decides who owns an added one). */
  labelNames: string[];
}

/** The parent issue's state and team, and its sub-issues, in one request. */
export interface LinearTree {
  state: { id: string; type: string };
  teamId: string;
  children: LinearChild[];
}

const PARENT_AND_CHILDREN = /* GraphQL */ `
  query AgentSubIssueTree($id: String!) {
    issue(id: $id) {
      state { id type }
      team { id }
      children(first: 100) { nodes { id identifier title url state { type name } labels(first: 50) { nodes { name } } } }
    }
  }
`;

/** Reads the parent's workflow state and its sub-issues (a human may have added, removed or cancelled some). */
export async function readTree(linear: LinearClient, parentIssueId: string): Promise<LinearTree> {
  type Node = Omit<LinearChild, "labelNames"> & { labels: { nodes: Array<{ name: string }> } };
  const res = await linear.client.rawRequest<
    { issue: { state: { id: string; type: string }; team: { id: string }; children: { nodes: Node[] } } | null },
    { id: string }
  >(PARENT_AND_CHILDREN, { id: parentIssueId });
  const issue = res.data?.issue;
  if (!issue) throw new Error(`Linear returned no issue ${parentIssueId} while reading its sub-issues`);
  const children = issue.children.nodes.map(({ labels, ...c }) => ({ ...c, labelNames: labels.nodes.map((l) => l.name) }));
  return { state: issue.state, teamId: issue.team.id, children };
}

/** What Linear changed about the tree since the plan last looked. */
export interface TreeChanges {
  /** The plan's subtasks with `dropped` following Linear (cancelled, removed, or back). */
  subtasks: PlannedSubtask[];
  /** Sub-issues a human added under the parent: tracked like the planned ones (started when labelled). */
  added: LinearChild[];
  /** Added sub-issues without the agent label: a human's own, never started, finished when Linear says so. */
  human: string[];
  /** Planned sub-issues no longer under the parent (their task leaves the tree). */
  removed: string[];
  /** Children Linear shows completed (a human closed them without a merged agent PR). */
  completed: string[];
  changed: boolean;
}

/**
 * Folds Linear's view of the sub-issues into the plan: a planned sub-issue no longer under the
 * parent is `removed`, a cancelled one `canceled`, one that came back is no longer dropped, a
 * renamed one takes its new title; a
 * sub-issue a human added becomes a planned one with no dependencies (key `added-<identifier>`),
 * the agent's only when it carries the agent label.
 */
export function applyLinear(plan: SplitPlan, tree: LinearTree, agentLabel: string): TreeChanges {
  const byId = new Map(tree.children.map((c) => [c.id, c]));
  let changed = false;
  const subtasks = plan.subtasks.map((sub) => {
    if (!sub.issueId) return sub;
    const child = byId.get(sub.issueId);
    const dropped: PlannedSubtask["dropped"] = !child ? "removed" : child.state.type === "canceled" ? "canceled" : null;
    // A human renamed it: the roll-up shows Linear's title.
    const title = child?.title ?? sub.title;
    if ((sub.dropped ?? null) === dropped && title === sub.title) return sub;
    changed = true;
    return { ...sub, dropped, title };
  });
  const known = new Set(plan.subtasks.map((s) => s.issueId));
  const added = tree.children.filter((c) => !known.has(c.id));
  for (const child of added) {
    changed = true;
    subtasks.push({
      key: `added-${child.identifier}`,
      title: child.title,
      brief: "",
      criteria: [],
      owns: [],
      dependsOn: [],
      issueId: child.id,
      identifier: child.identifier,
      dropped: child.state.type === "canceled" ? "canceled" : null,
    });
  }
  const completed = tree.children.filter((c) => c.state.type === "completed").map((c) => c.id);
  const wanted = agentLabel.toLowerCase();
  const human = tree.children
    .filter((c) => subtasks.some((s) => s.issueId === c.id && s.key.startsWith("added-")) && !c.labelNames.some((n) => n.toLowerCase() === wanted))
    .map((c) => c.id);
  const removed = subtasks.filter((s) => s.issueId && s.dropped === "removed").map((s) => s.issueId as string);
  return { subtasks, added, human, removed, completed, changed };
}
