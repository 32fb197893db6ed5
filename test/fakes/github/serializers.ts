/** Shapes state records into the JSON objects GitHub's REST API returns. */
import type { DiffStats } from "./git.js";
import type {
  GitHubState,
  IssueCommentRecord,
  Permission,
  PullRecord,
  RepoRecord,
  ReviewCommentRecord,
  ReviewRecord,
  StatusRecord,
} from "./state.js";
import { installationCovers, repoKey, userId } from "./state.js";

const WEB = "https://github.com";

export function nodeId(prefix: string, id: number): string {
  return `${prefix}_${Buffer.from(String(id)).toString("base64url")}`;
}

export function userObject(login: string, apiUrl: string): Record<string, unknown> {
  const id = userId(login);
  return {
    login,
    id,
    node_id: nodeId("U", id),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    url: `${apiUrl}/users/${login}`,
    html_url: `${WEB}/${login}`,
    type: login.endsWith("[bot]") ? "Bot" : "User",
    site_admin: false,
  };
}

const RANK: Permission[] = ["none", "read", "triage", "write", "maintain", "admin"];

/** Whether `login` belongs to the organisation that owns `repo`. */
export function isOrgMember(state: GitHubState, repo: RepoRecord, login: string): boolean {
  return state.orgMembers.get(repo.owner.toLowerCase())?.has(login.toLowerCase()) ?? false;
}

/** The highest of a direct grant and, for members of the owning organisation, its base permission ("read", GitHub's default). */
export function permissionOf(state: GitHubState, repo: RepoRecord, login: string): Permission {
  const app = [...state.apps.values()].find((a) => a.botLogin.toLowerCase() === login.toLowerCase());
  if (app) return appPermission(state, app.id, repo);
  const direct = state.collaborators.get(repoKey(repo.owner, repo.name))?.get(login.toLowerCase()) ?? "none";
  const base: Permission = isOrgMember(state, repo, login) ? "read" : "none";
  return RANK.indexOf(direct) >= RANK.indexOf(base) ? direct : base;
}

/** An App's bot reaches a repository through an installation covering it: write with contents: write. */
function appPermission(state: GitHubState, appId: number, repo: RepoRecord): Permission {
  const inst = [...state.installations.values()].find(
    (i) => i.appId === appId && installationCovers(i, repo.owner, repo.name),
  );
  if (!inst) return "none";
  return inst.permissions.contents === "write" ? "write" : "read";
}

export function permissionsObject(perm: Permission): Record<string, boolean> {
  const rank = RANK.indexOf(perm);
  return { admin: rank >= 5, maintain: rank >= 4, push: rank >= 3, triage: rank >= 2, pull: rank >= 1 };
}

export function authorAssociation(state: GitHubState, repo: RepoRecord, login: string): string {
  if (login.toLowerCase() === repo.owner.toLowerCase()) return "OWNER";
  // An App's bot is no collaborator, whatever its installation grants it.
  if (login.endsWith("[bot]")) return "NONE";
  // MEMBER says nothing about the member's permission: a read-only member is a MEMBER too.
  if (isOrgMember(state, repo, login)) return "MEMBER";
  const perm = permissionOf(state, repo, login);
  return perm === "none" || perm === "read" ? "NONE" : "COLLABORATOR";
}

export function repoObject(
  state: GitHubState,
  repo: RepoRecord,
  apiUrl: string,
  viewer: string,
): Record<string, unknown> {
  const full = `${repo.owner}/${repo.name}`;
  return {
    id: repo.id,
    node_id: nodeId("R", repo.id),
    name: repo.name,
    full_name: full,
    owner: userObject(repo.owner, apiUrl),
    private: repo.private,
    visibility: repo.private ? "private" : "public",
    html_url: `${WEB}/${full}`,
    url: `${apiUrl}/repos/${full}`,
    clone_url: repo.cloneUrl,
    git_url: `git://github.com/${full}.git`,
    ssh_url: `git@github.com:${full}.git`,
    default_branch: repo.defaultBranch,
    fork: false,
    archived: false,
    disabled: false,
    permissions: permissionsObject(permissionOf(state, repo, viewer)),
  };
}

export function pullObject(
  state: GitHubState,
  repo: RepoRecord,
  pull: PullRecord,
  apiUrl: string,
  detail: { stats: DiffStats; viewer: string } | null,
): Record<string, unknown> {
  const full = `${repo.owner}/${repo.name}`;
  const repoObj = repoObject(state, repo, apiUrl, detail?.viewer ?? pull.user);
  const html = `${WEB}/${full}/pull/${pull.number}`;
  const url = `${apiUrl}/repos/${full}/pulls/${pull.number}`;
  const base: Record<string, unknown> = {
    url,
    id: pull.id,
    node_id: nodeId("PR", pull.id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${apiUrl}/repos/${full}/issues/${pull.number}`,
    commits_url: `${url}/commits`,
    review_comments_url: `${url}/comments`,
    comments_url: `${apiUrl}/repos/${full}/issues/${pull.number}/comments`,
    statuses_url: `${apiUrl}/repos/${full}/statuses/${pull.headSha}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: userObject(pull.user, apiUrl),
    body: pull.body,
    labels: [],
    milestone: null,
    active_lock_reason: null,
    created_at: pull.createdAt,
    updated_at: pull.updatedAt,
    closed_at: pull.closedAt,
    merged_at: pull.mergedAt,
    merge_commit_sha: pull.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: {
      label: `${pull.headOwner}:${pull.headRef}`,
      ref: pull.headRef,
      sha: pull.headSha,
      user: userObject(pull.headOwner, apiUrl),
      repo: repoObj,
    },
    base: {
      label: `${repo.owner}:${pull.baseRef}`,
      ref: pull.baseRef,
      sha: pull.baseSha,
      user: userObject(repo.owner, apiUrl),
      repo: repoObj,
    },
    author_association: authorAssociation(state, repo, pull.user),
    auto_merge: null,
    draft: pull.draft,
  };
  if (!detail) return base; // list responses omit the fields below, like GitHub's
  const key = repoKey(repo.owner, repo.name);
  const open = pull.state === "open";
  return {
    ...base,
    merged: pull.merged,
    mergeable: open ? true : null,
    rebaseable: open ? true : null,
    mergeable_state: open ? (pull.draft ? "draft" : "clean") : "unknown",
    merged_by: pull.mergedBy ? userObject(pull.mergedBy, apiUrl) : null,
    comments: state.issueComments.filter((c) => c.repoKey === key && c.issueNumber === pull.number).length,
    review_comments: state.reviewComments.filter((c) => c.repoKey === key && c.pullNumber === pull.number)
      .length,
    maintainer_can_modify: pull.maintainerCanModify,
    commits: detail.stats.commits,
    additions: detail.stats.additions,
    deletions: detail.stats.deletions,
    changed_files: detail.stats.changedFiles,
  };
}

export function issueCommentObject(
  state: GitHubState,
  repo: RepoRecord,
  c: IssueCommentRecord,
  apiUrl: string,
): Record<string, unknown> {
  const full = `${repo.owner}/${repo.name}`;
  return {
    id: c.id,
    node_id: nodeId("IC", c.id),
    url: `${apiUrl}/repos/${full}/issues/comments/${c.id}`,
    html_url: `${WEB}/${full}/pull/${c.issueNumber}#issuecomment-${c.id}`,
    issue_url: `${apiUrl}/repos/${full}/issues/${c.issueNumber}`,
    body: c.body,
    user: userObject(c.user, apiUrl),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    author_association: authorAssociation(state, repo, c.user),
  };
}

export function reviewCommentObject(
  state: GitHubState,
  repo: RepoRecord,
  c: ReviewCommentRecord,
  apiUrl: string,
): Record<string, unknown> {
  const full = `${repo.owner}/${repo.name}`;
  const obj: Record<string, unknown> = {
    id: c.id,
    node_id: nodeId("PRRC", c.id),
    url: `${apiUrl}/repos/${full}/pulls/comments/${c.id}`,
    html_url: `${WEB}/${full}/pull/${c.pullNumber}#discussion_r${c.id}`,
    pull_request_url: `${apiUrl}/repos/${full}/pulls/${c.pullNumber}`,
    pull_request_review_id: c.reviewId,
    diff_hunk: c.diffHunk,
    path: c.path,
    position: c.line,
    original_position: c.line,
    commit_id: c.commitId,
    original_commit_id: c.commitId,
    user: userObject(c.user, apiUrl),
    body: c.body,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    author_association: authorAssociation(state, repo, c.user),
    start_line: null,
    original_start_line: null,
    start_side: null,
    line: c.line,
    original_line: c.line,
    side: c.side,
    subject_type: "line",
  };
  if (c.inReplyToId !== null) obj.in_reply_to_id = c.inReplyToId;
  return obj;
}

export function reviewObject(
  state: GitHubState,
  repo: RepoRecord,
  r: ReviewRecord,
  apiUrl: string,
): Record<string, unknown> {
  const full = `${repo.owner}/${repo.name}`;
  return {
    id: r.id,
    node_id: nodeId("PRR", r.id),
    user: userObject(r.user, apiUrl),
    body: r.body,
    state: r.state,
    html_url: `${WEB}/${full}/pull/${r.pullNumber}#pullrequestreview-${r.id}`,
    pull_request_url: `${apiUrl}/repos/${full}/pulls/${r.pullNumber}`,
    commit_id: r.commitId,
    ...(r.submittedAt ? { submitted_at: r.submittedAt } : {}),
    author_association: authorAssociation(state, repo, r.user),
  };
}

export function statusObject(s: StatusRecord, repo: RepoRecord, apiUrl: string): Record<string, unknown> {
  return {
    id: s.id,
    node_id: nodeId("SC", s.id),
    url: `${apiUrl}/repos/${repo.owner}/${repo.name}/statuses/${s.sha}`,
    avatar_url: null,
    state: s.state,
    description: s.description,
    target_url: s.targetUrl,
    context: s.context,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
    creator: userObject(s.creator, apiUrl),
  };
}
