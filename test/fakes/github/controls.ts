/** The GitHub fake's test controls, grouped by what they simulate: repositories, people's activity, Apps. */
import { enableApp, expireInstallationTokens, installApp, setInstallationRepos, uninstallApp } from "./apps.js";
import { gitDirFromCloneUrl } from "./git.js";
import type { GitHubFake } from "./index.js";
import { checkRunObject } from "./routes-checks.js";
import { markMerged } from "./routes-pulls.js";
import { insertIssueComment } from "./routes-repos.js";
import { insertReview, insertReviewComment } from "./routes-reviews.js";
import type { GitHubState, Permission, PullRecord } from "./state.js";
import { findPull, newId, repoKey } from "./state.js";

type RepoControls = Pick<GitHubFake, "addRepo" | "setPermission" | "addOrgMember" | "setDraftsSupported">;
type ActivityControls = Pick<GitHubFake, "addReviewComment" | "addIssueComment" | "addReview" | "addToken" | "mergePull">;
type AppControls = Pick<
  GitHubFake,
  "enableApp" | "installApp" | "expireInstallationTokens" | "uninstallApp" | "setInstallationRepos" | "checkRuns"
>;

/** Repositories, collaborators and organisation members; `url` is the fake's, for repositories served over HTTP. */
export function repoControls(state: GitHubState, url: string, botLogin: string): RepoControls {
  return {
    addRepo(repo) {
      const key = repoKey(repo.owner, repo.name);
      const gitDir = gitDirFromCloneUrl(repo.cloneUrl);
      if (repo.http && !gitDir) {
        throw new Error(`GitHub fake: http: true needs a local bare repository as cloneUrl, got ${repo.cloneUrl}`);
      }
      state.repos.set(key, {
        id: newId(state),
        owner: repo.owner,
        name: repo.name,
        cloneUrl: repo.http ? `${url}/${repo.owner}/${repo.name}.git` : repo.cloneUrl,
        defaultBranch: repo.defaultBranch ?? "main",
        private: repo.private ?? false,
        draftsSupported: repo.draftPullRequests ?? true,
        gitDir,
        http: repo.http ?? false,
        nextNumber: 1,
      });
      const perms = new Map<string, Permission>([[repo.owner.toLowerCase(), "admin"]]);
      if (!perms.has(botLogin.toLowerCase())) perms.set(botLogin.toLowerCase(), "write");
      state.collaborators.set(key, perms);
    },
    setPermission(owner, repo, login, permission) {
      const key = repoKey(owner, repo);
      const perms = state.collaborators.get(key) ?? new Map<string, Permission>();
      perms.set(login.toLowerCase(), permission);
      state.collaborators.set(key, perms);
    },
    addOrgMember(org, login) {
      const members = state.orgMembers.get(org.toLowerCase()) ?? new Set<string>();
      members.add(login.toLowerCase());
      state.orgMembers.set(org.toLowerCase(), members);
    },
    setDraftsSupported(owner, repo, supported) {
      const record = state.repos.get(repoKey(owner, repo));
      if (!record) throw new Error(`GitHub fake: no repository ${owner}/${repo}; call addRepo first`);
      record.draftsSupported = supported;
    },
  };
}

/** What people other than the service do: comment, review, merge, and act with their own tokens. */
export function activityControls(state: GitHubState): ActivityControls {
  const requirePull = (owner: string, repo: string, number: number): PullRecord => {
    const pull = findPull(state, repoKey(owner, repo), number);
    if (!pull) throw new Error(`GitHub fake: no pull request ${owner}/${repo}#${number}`);
    return pull;
  };
  return {
    addReviewComment(owner, repo, pullNumber, c) {
      const pull = requirePull(owner, repo, pullNumber);
      const record = insertReviewComment(state, pull, {
        user: c.user,
        body: c.body,
        path: c.path,
        line: c.line,
        diffHunk: c.diff_hunk,
        reviewId: c.pull_request_review_id ?? null,
      });
      return { id: record.id };
    },
    addIssueComment(owner, repo, number, c) {
      requirePull(owner, repo, number);
      return { id: insertIssueComment({ state }, repoKey(owner, repo), number, c.user, c.body).id };
    },
    addReview(owner, repo, pullNumber, r) {
      const pull = requirePull(owner, repo, pullNumber);
      return { id: insertReview(state, pull, { user: r.user, body: r.body ?? "", state: r.state }).id };
    },
    addToken(extraToken, login) {
      state.tokens.set(extraToken, login);
    },
    mergePull(owner, repo, number) {
      const pull = requirePull(owner, repo, number);
      if (!pull.merged) markMerged(pull, owner);
    },
  };
}

/** GitHub Apps: registering, installing, uninstalling, token expiry, and the check runs they wrote. */
export function appControls(state: GitHubState, url: string): AppControls {
  return {
    enableApp: (app) => enableApp(state, app),
    installApp: (owner, o) => installApp(state, owner, o),
    expireInstallationTokens: () => expireInstallationTokens(state, Date.now()),
    uninstallApp: (id) => uninstallApp(state, id),
    setInstallationRepos: (id, repos) => setInstallationRepos(state, id, repos),
    checkRuns(owner, repo) {
      const record = state.repos.get(repoKey(owner, repo));
      if (!record) throw new Error(`GitHub fake: no repository ${owner}/${repo}; call addRepo first`);
      return state.checkRuns
        .filter((r) => r.repoKey === repoKey(owner, repo))
        .map((r) => checkRunObject(state, record, r, url));
    },
  };
}
