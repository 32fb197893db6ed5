import type { EmitterWebhookEvent } from "@octokit/webhooks";
import { checkShape } from "./payload-shapes.js";

type InstallationPayload = EmitterWebhookEvent<"installation">["payload"];
type InstallationRepositoriesPayload = EmitterWebhookEvent<"installation_repositories">["payload"];

/** A GitHub App's installation changed: the two events that say so, typed by name. */
export type InstallationEvent =
  | { name: "installation"; payload: InstallationPayload }
  | { name: "installation_repositories"; payload: InstallationRepositoriesPayload };

/** What the service logs about an installation event: who installed what, never a secret. */
export interface InstallationSummary {
  /** created, deleted, suspend, unsuspend, new_permissions_accepted; added or removed. */
  action: string;
  installationId: number;
  /** The user or organisation the App is installed on (an enterprise's slug; null when GitHub sends none). */
  account: string | null;
  accountType: string | null;
  /** "all" or "selected": whether the installation reaches every repository of the account. */
  repositorySelection: string;
  /** full_name of each repository the App gained (installation.created lists the initial selection). */
  repositoriesAdded: string[];
  /** full_name of each repository the App lost. */
  repositoriesRemoved: string[];
  /** The GitHub user who made the change. */
  sender: string | null;
}

const NAMES = new Set<string>(["installation", "installation_repositories"]);

// Only what the summary reads; a signed body without it gets a 400 naming the field.
const SHAPE = {
  action: "string",
  "installation.id": "number",
  "installation.account": "object?",
  sender: "object?",
} as const;

/** True for the event names this module handles (`installation`, `installation_repositories`). */
export function isInstallationEvent(name: string): boolean {
  return NAMES.has(name);
}

/** Narrows a parsed installation event body, or says which field it lacks (`invalid`). */
export function narrowInstallationEvent(name: string, payload: unknown): InstallationEvent | { invalid: string } {
  const problem = checkShape(payload, SHAPE);
  if (problem) return { invalid: `GitHub ${name} payload: ${problem}` };
  return { name, payload } as InstallationEvent;
}

/** Summarises an installation event for the log. Pure: no request, no clock. */
export function summarizeInstallationEvent(event: InstallationEvent): InstallationSummary {
  const { installation, sender } = event.payload;
  const account = installation.account as { login?: string; slug?: string; type?: string } | null | undefined;
  const base = {
    action: event.payload.action,
    installationId: installation.id,
    account: account?.login ?? account?.slug ?? null,
    // An enterprise account has no `type`; it is the only kind with a slug.
    accountType: account ? (account.type ?? (account.slug ? "Enterprise" : null)) : null,
    repositorySelection: installation.repository_selection,
    sender: sender?.login ?? null,
  };
  if (event.name === "installation_repositories") {
    return {
      ...base,
      repositorySelection: event.payload.repository_selection ?? base.repositorySelection,
      repositoriesAdded: fullNames(event.payload.repositories_added),
      repositoriesRemoved: fullNames(event.payload.repositories_removed),
    };
  }
  // installation.created lists what was picked; installation.deleted what it no longer reaches.
  const listed = fullNames(event.payload.repositories);
  const action = event.payload.action;
  return {
    ...base,
    repositoriesAdded: action === "created" ? listed : [],
    repositoriesRemoved: action === "deleted" ? listed : [],
  };
}

// GitHub's schema marks repositories_removed' fields optional; a nameless entry is left out. The
// lists are not shape-checked (only logged), so anything but an array of objects counts as empty.
function fullNames(repos: ReadonlyArray<{ full_name?: string }> | undefined): string[] {
  if (!Array.isArray(repos)) return [];
  return repos.flatMap((r: unknown) => {
    const name = r !== null && typeof r === "object" ? (r as { full_name?: unknown }).full_name : undefined;
    return typeof name === "string" && name ? [name] : [];
  });
}
