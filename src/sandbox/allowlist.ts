import { isIP } from "node:net";

/** Decides which hosts and ports the sandbox's egress proxy may connect to. */
export interface Allowlist {
  /**
   * The entry that admits `host:port`, or null. A bare entry admits the web ports (443, and 80
   * for plain HTTP); `host:port` admits that port alone.
   */
  match(host: string, port: number): AllowEntry | null;
  /** The entries, for messages and logs. */
  readonly entries: readonly string[];
}

/** One parsed allowlist entry. */
export interface AllowEntry {
  host: string;
  /** A `*.domain` entry: subdomains only, never the domain itself. */
  wildcard: boolean;
  /** The port the entry names, or null for the web ports. */
  port: number | null;
  /** An IP literal: the operator named the address, so a private one is allowed. */
  literal: boolean;
}

const WEB_PORTS = new Set([80, 443]);

/**
 * An allowlist of exact host names, `*.domain` wildcards (subdomains only, as in Claude Code's
 * sandbox settings) and IP literals, each optionally with `:port`. Matching ignores case and a
 * trailing dot, so `Registry.npmjs.org.` cannot slip past a check for `registry.npmjs.org`.
 */
export function createAllowlist(entries: readonly string[]): Allowlist {
  const parsed = entries.map(parseEntry).filter((e): e is AllowEntry => e !== null);
  return {
    entries,
    match(host: string, port: number): AllowEntry | null {
      const h = normalizeHost(host);
      if (!h) return null;
      return (
        parsed.find((e) => {
          const portOk = e.port === null ? WEB_PORTS.has(port) : e.port === port;
          if (!portOk) return false;
          if (!e.wildcard) return e.host === h;
          // Wildcards name domains; an IP address is never a subdomain of one.
          return !isIP(h) && h.endsWith(`.${e.host}`);
        }) ?? null
      );
    },
  };
}

function parseEntry(raw: string): AllowEntry | null {
  const m = /^(.*?)(?::(\d{1,5}))?$/.exec(raw.trim());
  let hostPart = m?.[1] ?? "";
  let port = m?.[2] ? Number(m[2]) : null;
  // A bare IPv6 literal ("::1") reads as host ":" + port; only a bracketed one carries a port.
  if (isIP(raw.trim()) === 6) [hostPart, port] = [raw.trim(), null];
  const wildcard = hostPart.startsWith("*.");
  const host = normalizeHost(wildcard ? hostPart.slice(2) : hostPart);
  if (!host || (port !== null && (port < 1 || port > 65535))) return null;
  return { host, wildcard, port, literal: isIP(host) !== 0 };
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

/**
 * Whether an address is one a sandbox must never reach through a name: loopback, private
 * (RFC 1918, ULA), link-local (cloud metadata), CGNAT, unspecified, multicast, or an IPv4
 * address mapped into IPv6. A hostile or rebinding DNS answer must not open the worker's network.
 */
export function isInternalAddress(address: string): boolean {
  const a = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a)?.[1];
  if (mapped) return isInternalAddress(mapped);
  if (isIP(a) === 4) {
    const [x = 0, y = 0] = a.split(".").map(Number);
    return x === 0 || x === 10 || x === 127 || (x === 169 && y === 254) || (x === 172 && y >= 16 && y <= 31) || (x === 192 && y === 168) || (x === 100 && y >= 64 && y <= 127) || x >= 224;
  }
  if (isIP(a) === 6) {
    return a === "::" || a === "::1" || /^f[cd]/.test(a) || /^fe[89ab]/.test(a) || a.startsWith("ff") || a.startsWith("::ffff:");
  }
  return true;
}
