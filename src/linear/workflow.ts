import type { LinearClient } from "@linear/sdk";

export type StateType = "triage" | "backlog" | "unstarted" | "started" | "completed" | "canceled";

interface StateNode {
  id: string;
  name: string;
  type: string;
  position: number;
}

const TEAM_STATES = /* GraphQL */ `
  query AgentTeamStates($teamId: String!) {
    team(id: $teamId) { states(first: 100) { nodes { id name type position } } }
  }
`;

// A team's workflow changes rarely, and every status move needs it: a split tree of four moved
// its issues 14 times with a request each. Kept for minutes per process; a failed move forgets it.
const STATES_TTL_MS = 5 * 60_000;
const statesCache = new Map<string, { at: number; states: StateNode[] }>();

/** The team's workflow states, ordered by position within each type as Linear shows them. */
export async function teamStates(linear: LinearClient, p: { teamId: string }): Promise<StateNode[]> {
  const cached = statesCache.get(p.teamId);
  if (cached && Date.now() - cached.at < STATES_TTL_MS) return cached.states;
  const res = await linear.client.rawRequest<
    { team: { states: { nodes: StateNode[] } } },
    { teamId: string }
  >(TEAM_STATES, { teamId: p.teamId });
  const states = [...(res.data?.team.states.nodes ?? [])].sort((a, b) => a.position - b.position);
  if (res.data?.team) statesCache.set(p.teamId, { at: Date.now(), states });
  return states;
}

/** Picks the first state of a type, or one by name (case-insensitive); null when the team has none. */
export function pickState(states: StateNode[], want: { type?: StateType; name?: string }): StateNode | null {
  if (want.name) {
    const name = want.name.toLowerCase();
    return states.find((s) => s.name.toLowerCase() === name) ?? null;
  }
  return states.find((s) => s.type === want.type) ?? null;
}

/**
 * Moves an issue to the team's state matching `want`, unless it is there already. Returns the
 * state name, or null when the team has no such state (nothing is changed then).
 */
export async function moveIssue(
  linear: LinearClient,
  p: {
    issueId: string;
    teamId: string;
    currentStateId?: string | null;
    want: { type?: StateType; name?: string };
  },
): Promise<string | null> {
  const state = pickState(await teamStates(linear, { teamId: p.teamId }), p.want);
  if (!state) return null;
  if (state.id !== p.currentStateId) {
    await linear.updateIssue(p.issueId, { stateId: state.id }).catch((err: unknown) => {
      // A state deleted or renamed since it was read: the retry reads the workflow again.
      statesCache.delete(p.teamId);
      throw err;
    });
  }
  return state.name;
}

const STARTED_OR_DONE = new Set(["started", "completed", "canceled"]);

/**
 * Linear's best practice for an agent taking an issue: one not yet started (triage, backlog,
 * unstarted) moves to the team's `started` state with the lowest position; one already started
 * (e.g. In Review), completed or canceled stays where people put it. Returns the new state's name,
 * or null when nothing moved.
 */
export async function startIssue(
  linear: LinearClient,
  p: { issueId: string; teamId: string; state: { id: string; type: string } },
): Promise<string | null> {
  if (STARTED_OR_DONE.has(p.state.type)) return null;
  return moveIssue(linear, { issueId: p.issueId, teamId: p.teamId, currentStateId: p.state.id, want: { type: "started" } });
}
