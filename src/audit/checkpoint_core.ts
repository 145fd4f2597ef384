/**
 * Checkpoints as data, in the C2SP `tlog-checkpoint` form (a C2SP `signed-note`): the origin
 * line, the tree size, the RFC 6962 Merkle root of the first `size` lines (base64), a blank line,
 * then one Ed25519 signature line `— <origin> base64(keyID || signature)`. Standard text, so
 * transparency-log tooling (witnesses, `note` libraries) can read it.
 *
 * @example
 * ```ts
 * import type { KeySigner } from "./keys.ts";
 * declare const signer: KeySigner;
 * declare const root: Uint8Array;
 * import { makeCheckpoint, parseCheckpoint } from "./checkpoint_core.ts";
 * const text = makeCheckpoint("example.org/audit", 10, root, signer);
 * parseCheckpoint(text).size; // 10
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash, type KeyObject, verify as edVerify } from "node:crypto";
import type { KeySigner } from "./keys.ts";
import { AuditInputError } from "./errors.ts";

/** A parsed checkpoint: the note text it signs and its signature lines. */
export interface Checkpoint {
  origin: string;
  size: number;
  /** Merkle root, 32 bytes. */
  root: Uint8Array;
  /** The signed note text (the first three lines, each with its newline). */
  text: string;
  signatures: { name: string; keyId: number; sig: Uint8Array }[];
  /** Where it came from (a file, a witness), for messages. */
  source?: string;
}

const ORIGIN = /^[\x21-\x2a\x2c-\x7e]{1,255}$/; // printable ASCII, no space, no "+"
const B64_32 = /^[A-Za-z0-9+/]{43}=$/;

/**
 * The C2SP signed-note key ID of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || pubkey)[:4].
 *
 * @example
 * ```ts
 * declare const publicKeyRaw: Uint8Array;
 * noteKeyId("example.org/audit", publicKeyRaw); // uint32
 * ```
 */
export function noteKeyId(name: string, publicKeyRaw: Uint8Array): number {
  const h = createHash("sha256").update(name).update(new Uint8Array([0x0a, 0x01])).update(
    publicKeyRaw,
  ).digest();
  return h.readUInt32BE(0);
}

/**
 * Checks an origin line: printable ASCII without spaces or `+` (a note key name as well).
 *
 * @example
 * ```ts
 * validOrigin("example.org/audit"); // true
 * ```
 */
export function validOrigin(origin: string): boolean {
  return ORIGIN.test(origin);
}

/**
 * Signs a checkpoint note; the key name is the origin (as tlog-checkpoint recommends).
 *
 * @example
 * ```ts
 * import type { KeySigner } from "./keys.ts";
 * declare const signer: KeySigner;
 * declare const root: Uint8Array;
 * makeCheckpoint("example.org/audit", 3, root, signer);
 * // "example.org/audit\n3\n<root b64>\n\n— example.org/audit <b64>\n"
 * ```
 */
export function makeCheckpoint(
  origin: string,
  size: number,
  root: Uint8Array,
  signer: KeySigner,
): string {
  if (!validOrigin(origin)) throw new AuditInputError(`invalid checkpoint origin ${origin}`);
  const text = `${origin}\n${size}\n${Buffer.from(root).toString("base64")}\n`;
  const sig = Buffer.from(signer.sign(new TextEncoder().encode(text)), "base64");
  const blob = Buffer.alloc(4 + sig.length);
  blob.writeUInt32BE(noteKeyId(origin, signer.publicKeyRaw), 0);
  sig.copy(blob, 4);
  return `${text}\n— ${origin} ${blob.toString("base64")}\n`;
}

/**
 * Parses checkpoint text strictly; throws `AuditInputError` naming what is wrong.
 *
 * @example
 * ```ts
 * const cp = parseCheckpoint(await Deno.readTextFile("cp.txt"), "cp.txt");
 * ```
 */
export function parseCheckpoint(text: string, source = "checkpoint"): Checkpoint {
  const bad = (why: string) => new AuditInputError(`${source} is not a checkpoint: ${why}`);
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x09\x0b-\x1f]/.test(text)) throw bad("control characters");
  const split = text.lastIndexOf("\n\n");
  if (split === -1 || !text.endsWith("\n")) throw bad("no blank line before the signatures");
  const body = text.slice(0, split + 1);
  const lines = body.slice(0, -1).split("\n");
  if (lines.length < 3) throw bad("the note needs origin, size and root lines");
  const [origin, sizeText, rootText] = lines;
  if (!validOrigin(origin)) throw bad(`origin ${JSON.stringify(origin)}`);
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText)) throw bad(`size ${JSON.stringify(sizeText)}`);
  if (!B64_32.test(rootText)) throw bad("root is not base64 of 32 bytes");
  const signatures = text.slice(split + 2, -1).split("\n").map((line) => {
    const m = /^— (\S+) ([A-Za-z0-9+/]+=*)$/.exec(line);
    if (!m) throw bad(`signature line ${JSON.stringify(line)}`);
    const blob = Buffer.from(m[2], "base64");
    if (blob.length < 5) throw bad("signature too short");
    return { name: m[1], keyId: blob.readUInt32BE(0), sig: new Uint8Array(blob.subarray(4)) };
  });
  return {
    origin,
    size: Number(sizeText),
    root: new Uint8Array(Buffer.from(rootText, "base64")),
    text: body,
    signatures,
    source,
  };
}

/**
 * The key among `keys` (kid → raw public key) that signed the checkpoint, per signed-note rules:
 * a signature counts only when both its name (the origin) and key ID match a known key.
 * Returns the kid and whether the signature verifies, or undefined when no known key signed.
 *
 * @example
 * ```ts
 * import { publicKeyFromRaw } from "./keys.ts";
 * declare const cp: Checkpoint;
 * declare const raw: Uint8Array;
 * checkpointSigner(cp, new Map([["0123456789abcdef", raw]]), (_kid, r) => publicKeyFromRaw(r));
 * ```
 */
export function checkpointSigner(
  cp: Checkpoint,
  keys: Map<string, Uint8Array>,
  keyObject: (kid: string, raw: Uint8Array) => KeyObject,
): { kid: string; valid: boolean } | undefined {
  for (const s of cp.signatures) {
    if (s.name !== cp.origin) continue;
    for (const [kid, raw] of keys) {
      if (noteKeyId(cp.origin, raw) !== s.keyId) continue;
      let valid = false;
      try {
        valid = edVerify(null, new TextEncoder().encode(cp.text), keyObject(kid, raw), s.sig);
      } catch {
        valid = false;
      }
      return { kid, valid };
    }
  }
  return undefined;
}
