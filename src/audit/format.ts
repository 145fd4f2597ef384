/**
 * Human and SIEM renderings of entries: the seed's one-line history format and JSON Lines for
 * Wazuh's json decoder. RFC 5424 syslog records are in `syslog.ts`.
 *
 * @example
 * ```ts
 * import { formatSeedLine } from "./format.ts";
 * const entry = { seq: 1, ts: "2024-01-15T10:30:01.000Z", host: "web1", user: "alice",
 *   action: "deploy", repo: "/opt/myapp", from: "v1.1.0", to: "v1.2.0", status: "success",
 *   prev: "0".repeat(64), kid: "0".repeat(16), sig: "" };
 * formatSeedLine(entry);
 * // "2024-01-15T10:30:01Z deploy repo=/opt/myapp from=v1.1.0 to=v1.2.0 status=success"
 * ```
 * @module
 */
import type { AuditEntry, FieldValue } from "./entry.ts";

// The order a reader scans for: what, where, from → to, then the runbook context.
const FIELD_ORDER = [
  "repo",
  "env",
  "from",
  "to",
  "version",
  "target",
  "node",
  "runbook",
  "step",
  "run",
  // Entries store fields in sorted order (canonical bytes); what was done reads before its details.
  "operation",
];
const HIDDEN = new Set(["seq", "ts", "host", "user", "action", "status", "prev", "kid", "sig"]);

/**
 * One entry in the seed's history format: ts (second precision, Z), action, the action's own
 * fields as key=value in a stable order, status last. `verbose` appends seq, host, user, kid.
 *
 * @example
 * ```ts
 * const entry = { seq: 1, ts: "2024-01-15T10:30:01.000Z", host: "web1", user: "alice",
 *   action: "deploy", repo: "/opt/myapp", from: "v1.1.0", to: "v1.2.0", status: "success",
 *   prev: "0".repeat(64), kid: "0".repeat(16), sig: "" };
 * formatSeedLine(entry);
 * // "2024-01-15T10:30:01Z deploy repo=/opt/myapp from=v1.1.0 to=v1.2.0 status=success"
 * ```
 */
export function formatSeedLine(entry: AuditEntry, options: { verbose?: boolean } = {}): string {
  const keys = [
    ...FIELD_ORDER.filter((k) => k in entry),
    ...Object.keys(entry).filter((k) => !HIDDEN.has(k) && !FIELD_ORDER.includes(k)),
    "status",
    ...(options.verbose ? ["seq", "host", "user", "kid"] : []),
  ];
  const pairs = keys.filter((k) => entry[k] !== undefined).map((k) => `${k}=${quote(entry[k])}`);
  return [secondPrecision(entry.ts), entry.action, ...pairs].join(" ");
}

/**
 * The entry as one flat JSON line (what Wazuh's `json` log format decodes field by field).
 *
 * @example
 * ```ts
 * const entry = { seq: 1, ts: "2024-01-15T10:30:01.000Z", host: "web1", user: "alice",
 *   action: "deploy", repo: "/opt/myapp", from: "v1.1.0", to: "v1.2.0", status: "success",
 *   prev: "0".repeat(64), kid: "0".repeat(16), sig: "" };
 * JSON.parse(toJsonlLine(entry)).action; // "deploy"
 * ```
 */
export function toJsonlLine(entry: AuditEntry): string {
  return JSON.stringify(entry);
}

function secondPrecision(ts: string): string {
  return ts.replace(/\.\d+Z$/, "Z");
}

function quote(v: FieldValue): string {
  const s = String(v);
  return s === "" || /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}
