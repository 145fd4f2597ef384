/**
 * The audit entry as data: field rules, the signed byte string, the exact line bytes and the
 * strict parser the verifier uses. Pure functions only; no files, no clock.
 *
 * @example
 * ```ts
 * import { buildEntry, GENESIS_PREV, parseEntryLine } from "./entry.ts";
 * const { line } = buildEntry({ action: "deploy", repo: "/opt/app" },
 *   { seq: 1, prev: GENESIS_PREV, ts: "2024-01-15T10:30:01.000Z", host: "h", user: "u" }, signer);
 * parseEntryLine(new TextEncoder().encode(line)); // { ok: true, entry: {...} }
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

/** Prefix of every signed message, so an entry signature can never be replayed as anything else. */
export const SIGNING_DOMAIN = "protocol-audit-v1\n";

/** `prev` of seq 1: the hash of a domain string, so an empty history still has a fixed anchor. */
export const GENESIS_PREV = sha256Hex("protocol-audit-v1 genesis");

/** Lines must stay under 64 KiB so syslog relays and Wazuh's decoder take them whole. */
export const MAX_LINE_BYTES = 65535;

/** A field value: flat scalars only, so Wazuh's JSON decoder sees every field. */
export type FieldValue = string | number | boolean;

/** One line of `deployments.log`, parsed. */
export interface AuditEntry {
  seq: number;
  ts: string;
  host: string;
  user: string;
  action: string;
  status: string;
  prev: string;
  kid: string;
  sig: string;
  [field: string]: FieldValue;
}

/** What a caller of `appendAudit` supplies; `undefined` values are dropped. */
export interface AuditFields {
  action: string;
  status?: string;
  [field: string]: string | number | boolean | undefined;
}

/** Anything that can sign: the module passes a key-backed signer, tests may pass their own. */
export interface Signer {
  kid: string;
  /** Ed25519 signature of `data`, base64. */
  sign(data: Uint8Array): string;
}

/** Everything an entry needs besides the caller's fields; the writer reads it under the lock. */
export interface EntryContext {
  seq: number;
  prev: string;
  ts: string;
  host: string;
  user: string;
}

const FILLED = new Set(["seq", "ts", "prev", "kid", "sig"]);
// SD-NAME in RFC 5424 is at most 32 printable chars; lower-case words keep Wazuh field names tidy.
const FIELD_NAME = /^[a-z][a-z0-9_]{0,31}$/;
const ACTION = /^[a-z][a-z0-9_.-]{0,31}$/;
const STATUS = /^[a-z][a-z_]{0,31}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * SHA-256 as lower-case hex.
 *
 * @example
 * ```ts
 * sha256Hex("abc"); // "ba7816bf..."
 * ```
 */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Checks caller fields against the entry rules; throws a `TypeError` naming the bad field.
 *
 * @example
 * ```ts
 * validateFields({ action: "deploy", repo: "/opt/app" }); // ok
 * validateFields({ action: "deploy", seq: 3 }); // throws: seq is filled in by the log
 * ```
 */
export function validateFields(fields: AuditFields): void {
  if (typeof fields.action !== "string" || !ACTION.test(fields.action)) {
    throw new TypeError(`audit action must match ${ACTION}, got ${JSON.stringify(fields.action)}`);
  }
  if (
    fields.status !== undefined &&
    (typeof fields.status !== "string" || !STATUS.test(fields.status))
  ) {
    throw new TypeError(`audit status must match ${STATUS}, got ${JSON.stringify(fields.status)}`);
  }
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    if (FILLED.has(k)) {
      throw new TypeError(`audit field ${k} is filled in by the log, not the caller`);
    }
    if (!FIELD_NAME.test(k)) {
      throw new TypeError(`audit field name ${JSON.stringify(k)} must match ${FIELD_NAME}`);
    }
    const t = typeof v;
    if (t !== "string" && t !== "number" && t !== "boolean") {
      throw new TypeError(`audit field ${k} must be a string, number or boolean (flat for Wazuh)`);
    }
    if (t === "number" && !Number.isFinite(v)) {
      throw new TypeError(`audit field ${k} must be finite`);
    }
  }
}

/**
 * The entry without its signature, fields in the on-disk order: who/what first, then the
 * action's own fields, then status and the chain fields (so `tail -f` reads naturally).
 *
 * @example
 * ```ts
 * unsignedEntry({ action: "deploy", repo: "/r" }, ctx, "0123456789abcdef");
 * ```
 */
export function unsignedEntry(
  fields: AuditFields,
  ctx: EntryContext,
  kid: string,
): Omit<AuditEntry, "sig"> {
  const out: Record<string, FieldValue> = {
    seq: ctx.seq,
    ts: ctx.ts,
    host: typeof fields.host === "string" ? fields.host : ctx.host,
    user: typeof fields.user === "string" ? fields.user : ctx.user,
    action: fields.action,
  };
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined || k === "action" || k === "status" || k === "host" || k === "user") {
      continue;
    }
    out[k] = v;
  }
  out.status = fields.status ?? "success";
  out.prev = ctx.prev;
  out.kid = kid;
  return out as Omit<AuditEntry, "sig">;
}

/**
 * The bytes an entry signature covers: the domain string + RFC 8785 canonical JSON of every
 * field except `sig`. Canonical, so verification does not depend on how the line was written.
 *
 * @example
 * ```ts
 * const bytes = signingBytes({ seq: 1, ...rest });
 * ```
 */
export function signingBytes(unsigned: Record<string, unknown>): Uint8Array {
  return encoder.encode(SIGNING_DOMAIN + canonicalize(unsigned));
}

/**
 * Builds, signs and serializes one entry. The line is exactly `JSON.stringify(entry)`, which
 * the verifier re-derives to reject any alternative encoding of the same values.
 *
 * @example
 * ```ts
 * const { entry, line } = buildEntry({ action: "run", runbook: "deploy" }, ctx, signer);
 * ```
 */
export function buildEntry(
  fields: AuditFields,
  ctx: EntryContext,
  signer: Signer,
): { entry: AuditEntry; line: string } {
  validateFields(fields);
  const unsigned = unsignedEntry(fields, ctx, signer.kid);
  const entry = { ...unsigned, sig: signer.sign(signingBytes(unsigned)) } as AuditEntry;
  const line = JSON.stringify(entry);
  const size = encoder.encode(line).length;
  if (size > MAX_LINE_BYTES) {
    throw new TypeError(`audit entry is ${size} bytes; lines must stay under 64 KiB`);
  }
  return { entry, line };
}

/** Result of parsing one line: the entry, or why the line is not a well-formed entry. */
export type ParsedLine = { ok: true; entry: AuditEntry } | { ok: false; detail: string };

/**
 * Strictly parses one line (bytes, without the newline). Rejects invalid UTF-8, non-objects,
 * missing or mistyped fields, nested values, and any serialization other than the one the
 * writer produces, so a byte edit cannot hide behind an equivalent encoding.
 *
 * @example
 * ```ts
 * const p = parseEntryLine(new TextEncoder().encode('{"seq":1}'));
 * if (!p.ok) console.log(p.detail); // "missing or invalid ts"
 * ```
 */
export function parseEntryLine(bytes: Uint8Array): ParsedLine {
  let text: string;
  try {
    text = strictDecoder.decode(bytes);
  } catch {
    return { ok: false, detail: "line is not valid UTF-8" };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, detail: "line is not valid JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, detail: "line is not a JSON object" };
  }
  const e = value as Record<string, unknown>;
  if (!Number.isSafeInteger(e.seq) || (e.seq as number) < 1) return bad("seq");
  for (const k of ["ts", "host", "user", "status"]) if (typeof e[k] !== "string") return bad(k);
  if (typeof e.action !== "string" || !ACTION.test(e.action)) return bad("action");
  if (typeof e.prev !== "string" || !HEX64.test(e.prev)) return bad("prev");
  if (typeof e.kid !== "string" || !HEX16.test(e.kid)) return bad("kid");
  if (typeof e.sig !== "string" || !isStrictSig(e.sig)) return bad("sig");
  for (const [k, v] of Object.entries(e)) {
    if (!FIELD_NAME.test(k)) {
      return { ok: false, detail: `field name ${JSON.stringify(k)} is not allowed` };
    }
    const t = typeof v;
    if (t !== "string" && t !== "number" && t !== "boolean") {
      return { ok: false, detail: `field ${k} is not a flat scalar` };
    }
  }
  if (JSON.stringify(e) !== text) {
    return { ok: false, detail: "line is not in the writer's exact serialization" };
  }
  return { ok: true, entry: e as AuditEntry };
}

function bad(field: string): ParsedLine {
  return { ok: false, detail: `missing or invalid ${field}` };
}

// Base64 decoders ignore stray characters and non-zero padding bits; requiring the exact
// re-encoding of 64 bytes means every byte of `sig` matters.
function isStrictSig(sig: string): boolean {
  if (sig.length !== 88) return false;
  const raw = Buffer.from(sig, "base64");
  return raw.length === 64 && raw.toString("base64") === sig;
}
