import { isIP } from "node:net";

/** Decides which hosts the sandbox's egress proxy may connect to. */
export interface Allowlist {
  /** Whether agent commands may reach `host` (any port). */
  allows(host: string): boolean;
  /** The entries, for messages and logs. */
  readonly entries: readonly string[];
}

/**
 * An allowlist of exact host names, `*.domain` wildcards (subdomains only, never the domain
 * itself, as in Claude Code's sandbox settings) and IP literals. Matching ignores case and a
 * trailing dot, so `Registry.npmjs.org.` cannot slip past a check for `registry.npmjs.org`.
 */
export function createAllowlist(entries: readonly string[]): Allowlist {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const raw of entries) {
    const entry = normalizeHost(raw);
    if (!entry) continue;
    if (entry.startsWith("*.")) suffixes.push(entry.slice(1));
    else exact.add(entry);
  }
  return {
    entries,
    allows(host: string): boolean {
      const h = normalizeHost(host);
      if (!h) return false;
      if (exact.has(h)) return true;
      // Wildcards name domains; an IP address is never a subdomain of one.
      if (isIP(h)) return false;
      return suffixes.some((s) => h.endsWith(s) && h.length > s.length);
    },
  };
}

/** Lower-case host without brackets or a trailing dot; "" for anything that is not a host. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h.endsWith(".")) h = h.slice(0, -1);
  if (!h || /[\s/@?#\\]/.test(h)) return "";
  return h;
}

/** Splits a CONNECT authority (`host:port`, `[v6]:port`) into host and port; null when malformed. */
export function splitAuthority(authority: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(authority.trim());
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { host: (m[1] ?? m[2]) as string, port };
}
