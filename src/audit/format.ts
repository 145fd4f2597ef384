/**
 * Human and SIEM renderings of entries: the seed's one-line history format, JSON Lines for
 * Wazuh's json decoder, and RFC 5424 syslog.
 *
 * @example
 * ```ts
 * import { formatSeedLine } from "./format.ts";
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
 * formatSeedLine({ ts: "2024-01-15T10:30:01.000Z", action: "deploy", repo: "/opt/myapp",
 *   from: "v1.1.0", to: "v1.2.0", status: "success", ...chainFields });
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
 * JSON.parse(toJsonlLine(entry)).action; // "deploy"
 * ```
 */
export function toJsonlLine(entry: AuditEntry): string {
  return JSON.stringify(entry);
}

/** RFC 5424 private enterprise number used in the structured-data id. */
export const SD_ID = "protocol@32473";

/**
 * The entry as an RFC 5424 line: `<PRI>1 TS HOST protocol - ACTION [protocol@32473 k="v" …] msg`.
 * Facility 13 (log audit); severity error for failure, warning for aborted, notice otherwise.
 *
 * @example
 * ```ts
 * toSyslogLine(entry);
 * // '<109>1 2024-01-15T10:30:01.000Z web1 protocol - deploy [protocol@32473 seq="1" ...] 2024-...'
 * ```
 */
export function toSyslogLine(entry: AuditEntry): string {
  const severity = entry.status === "failure" ? 3 : entry.status === "aborted" ? 4 : 5;
  const params = Object.keys(entry)
    .filter((k) => !["ts", "host", "action", "prev", "sig"].includes(k))
    .map((k) => `${k}="${escapeParam(String(entry[k]))}"`);
  return `<${13 * 8 + severity}>1 ${entry.ts} ${headerToken(entry.host, 255)} protocol - ` +
    `${headerToken(entry.action, 32)} [${SD_ID} ${params.join(" ")}] ${formatSeedLine(entry)}`;
}

/**
 * Escapes an SD-PARAM value per RFC 5424 §6.3.3: `"`, `\` and `]` get a backslash.
 *
 * @example
 * ```ts
 * escapeParam('a"b]'); // 'a\\"b\\]'
 * ```
 */
export function escapeParam(value: string): string {
  return value.replace(/["\\\]]/g, (c) => "\\" + c);
}

function secondPrecision(ts: string): string {
  return ts.replace(/\.\d+Z$/, "Z");
}

function quote(v: FieldValue): string {
  const s = String(v);
  return s === "" || /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

// Header fields are PRINTUSASCII without spaces; anything else would break parsers.
function headerToken(s: string, max: number): string {
  const t = s.replace(/[^\x21-\x7e]/g, "_").slice(0, max);
  return t === "" ? "-" : t;
}
