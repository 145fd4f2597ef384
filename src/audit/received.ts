/**
 * The receiving side: verify a stream of exported lines (what `audit:export --format jsonl`
 * prints, or the MSG of every syslog record) with the trust root kept off the host. The rules
 * are the log's own (`verifyHistory`): seq from 1 without gaps, each `prev` the SHA-256 of the
 * line before, each `sig` by the key the chain says is current.
 *
 * Forwarding is at-least-once (a connection that breaks mid-stream is sent again whole), so a
 * line that is byte-for-byte a copy of an earlier one is dropped and counted, not failed: it
 * repeats a claim already checked and can change nothing.
 *
 * @example
 * ```ts
 * import { verifyExportedLines } from "./received.ts";
 * const r = await verifyExportedLines(await Deno.readFile("received.jsonl"), "/safe/root.pub");
 * console.log(r.ok, r.entries, r.duplicates);
 * ```
 * @module
 */
import { sha256Hex } from "./entry.ts";
import { AuditInputError } from "./errors.ts";
import { keyForSeq, kidOf, parseKeyring, parsePublicKeyText } from "./keys.ts";
import { splitLines } from "./lines.ts";
import type { TrustRoot, VerifyResult } from "./verdict.ts";
import { verifyHistory } from "./verify_core.ts";

/** A verdict over a received stream: `verifyHistory`'s, plus the copies it dropped. */
export interface StreamVerdict extends VerifyResult {
  /** Lines dropped as exact copies of earlier lines (at-least-once delivery). */
  duplicates: number;
}

/**
 * Verifies exported lines read from `bytes` against the trust root in `pubkeyFile` (a PEM or
 * base64 Ed25519 public key, or a keyring JSON). The stream must start at seq 1. Line numbers in
 * `firstBad` count the input's lines, duplicates included.
 *
 * @example
 * ```ts
 * const jsonl = await Deno.readTextFile("siem.jsonl");
 * const r = await verifyExportedLines(new TextEncoder().encode(jsonl), "/safe/root.pub", "siem.jsonl");
 * if (!r.ok) console.log(r.firstBad!.line, r.firstBad!.reason);
 * ```
 */
export async function verifyExportedLines(
  bytes: Uint8Array,
  pubkeyFile: string | undefined,
  name = "<stdin>",
): Promise<StreamVerdict> {
  if (!pubkeyFile) {
    throw new AuditInputError(
      "verifying exported lines needs the trust root kept off the host: pass --pubkey FILE",
    );
  }
  const root = await readTrustRoot(pubkeyFile);
  if (bytes.length === 0) throw new AuditInputError(`${name} is empty: no lines to verify`);
  return verifyStream(bytes, root, name);
}

/**
 * The pure part of `verifyExportedLines`: drop exact copies, verify, map line numbers back.
 *
 * @example
 * ```ts
 * import { kidOf } from "./keys.ts";
 * const bytes = await Deno.readFile("siem.jsonl");
 * const publicKeyRaw = new Uint8Array(32); // the trust root's raw Ed25519 public key
 * const r = verifyStream(bytes, { kid: kidOf(publicKeyRaw), publicKeyRaw }, "siem.jsonl");
 * ```
 */
export function verifyStream(bytes: Uint8Array, root: TrustRoot, name: string): StreamVerdict {
  const seen = new Set<string>();
  const kept: Uint8Array[] = [];
  const inputLine: number[] = [];
  let duplicates = 0;
  for (const rec of splitLines([{ name, bytes }])) {
    const hash = rec.torn ? "" : sha256Hex(rec.bytes);
    if (hash && seen.has(hash)) {
      duplicates++;
      continue;
    }
    if (hash) seen.add(hash);
    kept.push(rec.torn ? rec.bytes : withNewline(rec.bytes));
    inputLine.push(rec.line);
  }
  const verdict = verifyHistory([{ name, bytes: concat(kept) }], root);
  if (verdict.firstBad) {
    const at = verdict.firstBad.line - 1;
    verdict.firstBad.line = at < inputLine.length ? inputLine[at] : (inputLine.at(-1) ?? 0) + 1;
  }
  return { ...verdict, duplicates };
}

async function readTrustRoot(path: string): Promise<TrustRoot> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new AuditInputError(`cannot read public key ${path}: ${(err as Error).message}`);
  }
  if (text.trimStart().startsWith("{")) {
    const k = keyForSeq(parseKeyring(text, path), 1);
    if (!k) throw new AuditInputError(`${path} has no key valid from seq 1`);
    return k;
  }
  const raw = parsePublicKeyText(text, path);
  return { kid: kidOf(raw), publicKeyRaw: raw };
}

function withNewline(line: Uint8Array): Uint8Array {
  const out = new Uint8Array(line.length + 1);
  out.set(line);
  out[line.length] = 10;
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
