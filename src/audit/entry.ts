/**
 * The audit entry as data: field rules, the signed byte string, the exact line bytes and the
 * strict parser the verifier uses. Pure functions only; no files, no clock.
 *
 * @example
 * ```ts
 * import type { Signer } from "./entry.ts";
 * declare const signer: Signer;
 * import { buildEntry, GENESIS_PREV, parseEntryLine } from "./entry.ts";
 * const { line } = buildEntry({ action: "deploy", repo: "/opt/app" },
 *   { seq: 1, prev: GENESIS_PREV, ts: "2024-01-15T10:30:01.000Z", host: "h", user: "u" }, signer);
 * parseEntryLine(new TextEncoder().encode(line)); // { ok: true, entry: {...} }
 * ```
 * @module
 */
import { hash } from "node:crypto";
import { AuditInputError } from "./errors.ts";
import { BASE64_VALUE, SIGNING_DOMAIN } from "./signed_bytes.ts";

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
const LEADING = new Set(["seq", "ts", "host", "user", "action"]);
const TRAILING = new Set(["status", "prev", "kid", "sig"]);
// SD-NAME in RFC 5424 is at most 32 printable chars; lower-case words keep Wazuh field names tidy.
const FIELD_NAME = /^[a-z][a-z0-9_]{0,31}$/;
const ACTION = /^[a-z][a-z0-9_.-]{0,31}$/;
const STATUS = /^[a-z][a-z_]{0,31}$/;
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
  return hash("sha256", data, "hex"); // one-shot: no Hash object per line
}

/**
 * Checks caller fields against the entry rules; throws an {@link AuditInputError} naming the bad field.
 *
 * @example
 * ```ts
 * validateFields({ action: "deploy", repo: "/opt/app" }); // ok
 * validateFields({ action: "deploy", seq: 3 }); // throws: seq is filled in by the log
 * ```
 */
export function validateFields(fields: AuditFields): void {
  if (typeof fields.action !== "string" || !ACTION.test(fields.action)) {
    throw new AuditInputError(
      `audit action must match ${ACTION}, got ${JSON.stringify(fields.action)}`,
    );
  }
  if (
    fields.status !== undefined &&
    (typeof fields.status !== "string" || !STATUS.test(fields.status))
  ) {
    throw new AuditInputError(
      `audit status must match ${STATUS}, got ${JSON.stringify(fields.status)}`,
    );
  }
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    if (FILLED.has(k)) {
      throw new AuditInputError(`audit field ${k} is filled in by the log, not the caller`);
    }
    if (!FIELD_NAME.test(k)) {
      throw new AuditInputError(`audit field name ${JSON.stringify(k)} must match ${FIELD_NAME}`);
    }
    const t = typeof v;
    if (t !== "string" && t !== "number" && t !== "boolean") {
      throw new AuditInputError(
        `audit field ${k} must be a string, number or boolean (flat for Wazuh)`,
      );
    }
    if (t === "number" && !Number.isFinite(v)) {
      throw new AuditInputError(`audit field ${k} must be finite`);
    }
  }
}

/**
 * The entry without its signature, fields in the canonical on-disk order: seq, ts, host, user,
 * action, then the action's own fields sorted by name, then status, prev, kid (sig last).
 * One order for every entry, so the verifier can re-derive the exact bytes of any line.
 *
 * @example
 * ```ts
 * declare const ctx: EntryContext;
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
  for (const k of Object.keys(fields).sort()) {
    const v = fields[k];
    if (v === undefined || LEADING.has(k) || k === "status") continue;
    out[k] = v;
  }
  out.status = fields.status ?? "success";
  out.prev = ctx.prev;
  out.kid = kid;
  return out as Omit<AuditEntry, "sig">;
}

/**
 * The bytes an entry signature covers: the domain string + the entry's canonical line without
 * its `sig` field (`JSON.stringify` of the fields in canonical order). Because every line must be
 * exactly its canonical serialization, a verifier gets these bytes from the line itself: drop the
 * final `,"sig":"<88 chars>"` (see `signedBytesOfLine`).
 *
 * @example
 * ```ts
 * const bytes = signingBytes({ seq: 1, ts: "2024-01-15T10:30:01.000Z", action: "deploy" });
 * ```
 */
export function signingBytes(unsigned: Record<string, unknown>): Uint8Array {
  return encoder.encode(SIGNING_DOMAIN + JSON.stringify(canonicalOrder(unsigned)));
}

/**
 * Builds, signs and serializes one entry. The line is the canonical serialization, which the
 * verifier re-derives to reject any alternative encoding of the same values (`re-encoded`).
 *
 * @example
 * ```ts
 * declare const ctx: EntryContext;
 * declare const signer: Signer;
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
    throw new AuditInputError(`audit entry is ${size} bytes; lines must stay under 64 KiB`);
  }
  return { entry, line };
}

/**
 * The canonical line of an entry: its fields in canonical order, `JSON.stringify`d. A line on
 * disk must be byte-for-byte this.
 *
 * @example
 * ```ts
 * declare const line: string;
 * canonicalLine(JSON.parse(line)) === line; // for every line the writer wrote
 * ```
 */
export function canonicalLine(entry: Record<string, unknown>): string {
  return JSON.stringify(canonicalOrder(entry));
}

function canonicalOrder(e: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of LEADING) if (k in e) out[k] = e[k];
  for (const k of Object.keys(e).sort()) if (!LEADING.has(k) && !TRAILING.has(k)) out[k] = e[k];
  for (const k of TRAILING) if (k in e) out[k] = e[k];
  return out;
}

/**
 * Result of parsing one line: the entry, or why the line is not a well-formed entry
 * (`reencoded`: the values are well-formed but the bytes are not the writer's serialization).
 * `v1Form`: exact `JSON.stringify` bytes but not in canonical field order, which only a v1
 * entry may be (the old writer kept the caller's field order).
 */
export type ParsedLine =
  | { ok: true; entry: AuditEntry; v1Form?: true }
  | { ok: false; detail: string; reencoded?: boolean };

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
  if (!isLowerHex(e.prev, 64)) return bad("prev");
  if (!isLowerHex(e.kid, 16)) return bad("kid");
  if (!isStrictSig(e.sig)) return bad("sig");
  const keys = Object.keys(e);
  for (const k of keys) {
    if (!FIELD_NAME.test(k)) {
      return { ok: false, detail: `field name ${JSON.stringify(k)} is not allowed` };
    }
    const t = typeof e[k];
    if (t !== "string" && t !== "number" && t !== "boolean") {
      return { ok: false, detail: `field ${k} is not a flat scalar` };
    }
  }
  // Canonical = keys in canonical order and JSON.stringify's bytes (which keep the parsed order);
  // checked without building a second object, since verify does this for every line.
  if (JSON.stringify(e) !== text) {
    return {
      ok: false,
      reencoded: true,
      detail: "same values, other bytes: the line is not the writer's canonical serialization",
    };
  }
  // Exact bytes with the fields in another order is the v1 layout (see legacy_v1.ts): readable,
  // and the verifier accepts it only as a v1-signed entry before the log moved to v2.
  if (!inCanonicalOrder(keys)) return { ok: true, entry: e as AuditEntry, v1Form: true };
  return { ok: true, entry: e as AuditEntry };
}

function bad(field: string): ParsedLine {
  return { ok: false, detail: `missing or invalid ${field}` };
}

// Base64 decoders ignore stray characters and non-zero padding bits; requiring the one exact
// encoding of 64 bytes (86 chars, the last with zero low bits, "==") means every byte counts.
// Loops over char codes rather than regexes: verify runs these for every line.
function isStrictSig(sig: unknown): boolean {
  if (typeof sig !== "string" || sig.length !== 88) return false;
  for (let i = 0; i < 85; i++) {
    const c = sig.charCodeAt(i);
    if (c > 0x7f || BASE64_VALUE[c] < 0) return false;
  }
  const last = sig.charCodeAt(85);
  return (last === 0x41 || last === 0x51 || last === 0x67 || last === 0x77) &&
    sig.charCodeAt(86) === 0x3d && sig.charCodeAt(87) === 0x3d;
}

function isLowerHex(value: unknown, length: number): boolean {
  if (typeof value !== "string" || value.length !== length) return false;
  for (let i = 0; i < length; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

const LEADING_KEYS = [...LEADING];
const TRAILING_KEYS = [...TRAILING];
function inCanonicalOrder(keys: string[]): boolean {
  const n = keys.length;
  const lead = LEADING_KEYS.length;
  const trail = TRAILING_KEYS.length;
  if (n < lead + trail) return false;
  for (let i = 0; i < lead; i++) if (keys[i] !== LEADING_KEYS[i]) return false;
  for (let i = 0; i < trail; i++) if (keys[n - trail + i] !== TRAILING_KEYS[i]) return false;
  for (let i = lead + 1; i < n - trail; i++) if (!(keys[i - 1] < keys[i])) return false;
  return true;
}
