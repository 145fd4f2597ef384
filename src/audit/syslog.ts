/**
 * RFC 5424 records for the audit log, framed for TCP with RFC 6587 octet counting. Pure
 * functions: an entry and its exact log line in, bytes out.
 *
 * A record carries every field twice, for two readers: as SD-PARAMs (`[protocol@32473 seq="7"
 * … prev="…" kid="…" sig="…"]`) so a SIEM indexes each field, and as the MSG, which is the
 * entry's exact log line, so a receiver can check `sig` and the `prev` chain over the very bytes
 * the writer signed and hashed (SD-PARAM values are text: `seq="7"` cannot say whether it was the
 * number 7 or the string "7", and the signature covers the difference).
 *
 * Octet counting (`LEN SP RECORD`) means the receiver reads exactly LEN bytes: a newline, `<`,
 * or a whole fake record inside a value stays inside its frame and can never start another one.
 *
 * Nothing is truncated, and the SD stays small enough for real receivers: rsyslog keeps the
 * STRUCTURED-DATA's length in 16 bits (an SD over 64 KiB arrives garbled) and old mmpstrucdata
 * overflows on a value over 32 KiB (CVE-2026-61548). So the SD holds at most `SD_MAX_BYTES`: when
 * the fields do not fit, the longest values are left out of it, and the SD-PARAM `msg-only`
 * (a name no field can have) lists them, comma-separated. Their values are in the MSG, like every
 * field's.
 *
 * @example
 * ```ts
 * import { octetFrame, syslogRecord } from "./syslog.ts";
 * const line = '{"seq":1,"ts":"2024-01-15T10:30:01.000Z","host":"web1","user":"alice","action":"deploy","status":"success","prev":"…","kid":"…","sig":"…"}';
 * const frame = octetFrame(syslogRecord(JSON.parse(line), line));
 * // "<109>1 2024-01-15T10:30:01.000Z web1 protocol - deploy [protocol@32473 seq=\"1\" …] {\"seq\":1,…}" prefixed by its byte length
 * ```
 * @module
 */
import type { AuditEntry } from "./entry.ts";

/** SD-ID of the audit record's structured data (RFC 5424 §7.2.2 enterprise form). */
export const SD_ID = "protocol@32473";

/**
 * Largest STRUCTURED-DATA, in bytes as sent, a control character counting 4 (receivers such as
 * rsyslog render it `#ooo`): half of rsyslog's 64 KiB limit.
 */
export const SD_MAX_BYTES = 32 * 1024;

/** SD-PARAM naming the fields left out of the SD (found only in the MSG). */
export const MSG_ONLY_PARAM = "msg-only";

/** APP-NAME of every record. */
export const APP_NAME = "protocol";

/**
 * Upper bound of one record in bytes: a log line is under 64 KiB, the SD at most `SD_MAX_BYTES`,
 * the header under 400 bytes. Receivers must accept this size (rsyslog:
 * `global(maxMessageSize="128k")`); records are never cut to fit.
 */
export const MAX_RECORD_BYTES = 128 * 1024;

/** Facility 13, "log audit" (RFC 5424 §6.2.1). */
const FACILITY = 13;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;
const encoder = new TextEncoder();

/**
 * The RFC 5424 record of one entry: `<PRI>1 TIMESTAMP HOSTNAME protocol - ACTION [SD] LINE`.
 * Every field of the entry, in the line's order, is an SD-PARAM of `protocol@32473` (the longest
 * values may be only in the MSG, see `structuredData`); the MSG is `line` unchanged.
 * Header fields that RFC 5424 restricts (printable ASCII, length) are sanitized or NILVALUE;
 * their exact values are always in the SD-PARAMs. Throws a `RangeError` rather than ever
 * producing a record over `MAX_RECORD_BYTES`.
 *
 * @example
 * ```ts
 * const entry = { seq: 1, ts: "2024-01-15T10:30:01.000Z", host: "web1", user: "alice",
 *   action: "deploy", status: "success", prev: "p", kid: "k", sig: "s" };
 * syslogRecord(entry, JSON.stringify(entry)).startsWith("<109>1 2024-01-15T10:30:01.000Z web1 protocol - deploy ");
 * // true
 * ```
 */
export function syslogRecord(entry: AuditEntry, line: string): string {
  const ts = RFC3339.test(entry.ts) ? entry.ts : "-";
  const record = `<${FACILITY * 8 + severity(entry.status)}>1 ${ts} ` +
    `${headerToken(entry.host, 255)} ${APP_NAME} - ${headerToken(entry.action, 32)} ` +
    `${structuredData(entry)} ${line}`;
  const size = encoder.encode(record).length;
  if (size > MAX_RECORD_BYTES) {
    throw new RangeError(
      `syslog record of seq ${entry.seq} is ${size} bytes, over ${MAX_RECORD_BYTES}`,
    );
  }
  return record;
}

/**
 * The STRUCTURED-DATA of an entry: `[protocol@32473 k="v" …]` with every field in line order,
 * unless that exceeds `SD_MAX_BYTES`; then the longest values are left out until it fits and
 * `msg-only="a,b"` names them.
 *
 * @example
 * ```ts
 * const entry = { seq: 1, ts: "2024-01-15T10:30:01.000Z", host: "web1", user: "alice",
 *   action: "deploy", note: 'a"b', status: "success", prev: "p", kid: "k", sig: "s" };
 * structuredData(entry); // '[protocol@32473 seq="1" … note="a\\"b" …]'
 * ```
 */
export function structuredData(entry: AuditEntry): string {
  const params = Object.keys(entry).map((k) => ({
    k,
    text: `${k}="${escapeParam(String(entry[k]))}"`,
  }));
  // Longest first, so the chain fields (seq, prev, kid, sig, …), all short, always stay.
  const longest = [...params].sort((a, b) => weightedSize(b.text) - weightedSize(a.text));
  const left = new Set<string>();
  const render = () => {
    const kept = params.filter((p) => !left.has(p.k)).map((p) => p.text);
    if (left.size) kept.push(`${MSG_ONLY_PARAM}="${[...left].join(",")}"`);
    return `[${SD_ID} ${kept.join(" ")}]`;
  };
  let sd = render();
  while (weightedSize(sd) > SD_MAX_BYTES && left.size < params.length) {
    left.add(longest[left.size].k);
    sd = render();
  }
  return sd;
}

// Bytes as a receiver stores them: UTF-8, with a control character rendered as `#ooo`.
function weightedSize(text: string): number {
  let n = encoder.encode(text).length;
  // deno-lint-ignore no-control-regex
  for (const _ of text.matchAll(/[\x00-\x1f]/g)) n += 3;
  return n;
}

/**
 * RFC 6587 §3.4.1 octet-counted frame: the record's length in bytes (UTF-8), a space, the
 * record. No trailer: the count alone delimits it.
 *
 * @example
 * ```ts
 * new TextDecoder().decode(octetFrame("<109>1 - - protocol - x - é")); // "29 <109>1 - - protocol - x - é"
 * ```
 */
export function octetFrame(record: string): Uint8Array {
  const body = encoder.encode(record);
  const head = encoder.encode(`${body.length} `);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/**
 * Escapes an SD-PARAM value per RFC 5424 §6.3.3: `"`, `\` and `]` get a backslash; every other
 * character (newlines included) is sent as is, which octet counting makes safe.
 *
 * @example
 * ```ts
 * escapeParam('a"b]'); // 'a\\"b\\]'
 * ```
 */
export function escapeParam(value: string): string {
  return value.replace(/["\\\]]/g, (c) => "\\" + c);
}

/**
 * Syslog severity of an entry's status: error for failure, warning for aborted, notice else.
 *
 * @example
 * ```ts
 * severity("failure"); // 3
 * ```
 */
export function severity(status: string): number {
  return status === "failure" ? 3 : status === "aborted" ? 4 : 5;
}

// Header fields are PRINTUSASCII without spaces; anything else would break parsers.
function headerToken(s: string, max: number): string {
  const t = s.replace(/[^\x21-\x7e]/g, "_").slice(0, max);
  return t === "" ? "-" : t;
}
