import type { z } from "zod";
import { INSTALLATION, parseShape } from "./github-shapes.js";

type InstallationPayload = z.output<typeof INSTALLATION>;

/** A GitHub App's installation changed: the two events that say so, with their checked fields. */
export type InstallationEvent =
  | { name: "installation"; payload: InstallationPayload }
  | { name: "installation_repositories"; payload: InstallationPayload };

/** What the service logs about an installation event: who installed what, never a secret. */
export interface InstallationSummary {
  /** created, deleted, suspend, unsuspend, new_permissions_accepted; added or removed. */
  action: string;
  installationId: number;
  /** The user or organisation the App is installed on (an enterprise's slug; null when GitHub sends none). */
  account: string | null;
  accountType: string | null;
  /** "all" or "selected": whether the installation reaches every repository of the account (null when not sent). */
  repositorySelection: string | null;
  /** full_name of each repository the App gained (installation.created lists the initial selection). */
  repositoriesAdded: string[];
  /** full_name of each repository the App lost. */
  repositoriesRemoved: string[];
  /** The GitHub user who made the change. */
  sender: string | null;
}

const NAMES = new Set<string>(["installation", "installation_repositories"]);

/** True for the event names this module handles (`installation`, `installation_repositories`). */
export function isInstallationEvent(name: string): name is InstallationEvent["name"] {
  return NAMES.has(name);
}

/** Narrows a parsed installation event body, or says which field it lacks (`invalid`). */
export function narrowInstallationEvent(name: string, payload: unknown): InstallationEvent | { invalid: string } {
  if (!isInstallationEvent(name)) return { invalid: `GitHub "${name}" is not an installation event` };
  const parsed = parseShape(INSTALLATION, payload);
  if ("problem" in parsed) return { invalid: `GitHub ${name} payload: ${parsed.problem}` };
  return { name, payload: parsed.data };
}

/** Summarises an installation event for the log. Pure: no request, no clock. */
export function summarizeInstallationEvent(event: InstallationEvent): InstallationSummary {
  const { action, installation, sender } = event.payload;
  const account = installation.account;
  const base = {
    action,
    installationId: installation.id,
    account: account?.login ?? account?.slug ?? null,
    // An enterprise account has no `type`; it is the only kind with a slug.
    accountType: account ? (account.type ?? (account.slug ? "Enterprise" : null)) : null,
    repositorySelection: installation.repository_selection ?? null,
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
  return {
    ...base,
    repositoriesAdded: action === "created" ? listed : [],
    repositoriesRemoved: action === "deleted" ? listed : [],
  };
}

// The schema turned unnamed entries into null.
function fullNames(repos: InstallationPayload["repositories"]): string[] {
  return repos.flatMap((r) => (r ? [r.full_name] : []));
}
