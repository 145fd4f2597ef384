/**
 * Getting the live log ready for the next write, under the lock: keep a complete last line that
 * only lacks its newline, pick the key the chain expects, and evolve that key when it is older
 * than a day.
 *
 * @example
 * ```ts
 * import type { OpenLog } from "./writer.ts";
 * const stateDir = "/srv/state";
 * declare const log: OpenLog;
 * import { signerForAppend } from "./tail.ts";
 * const signer = await signerForAppend(stateDir, log);
 * await log.append([{ action: "deploy" }], signer);
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { type AuditEntry, parseEntryLine } from "./entry.ts";
import { keyForSeq, type KeySigner, publicKeyFromRaw } from "./keys.ts";
import {
  announceNextKey,
  finishRotation,
  keyIsStale,
  readKeyring,
  signerForTail,
} from "./signing.ts";
import { checkV1Signature } from "./legacy_v1.ts";
import { checkLineSignature } from "./verify_core.ts";
import type { OpenLog } from "./writer.ts";

/**
 * The signer for the next append. A crash can leave the last entry fully written but without
 * its newline: when those bytes are exactly the next entry (right seq and prev, canonical,
 * signed by the expected key; or a format v1 entry while the history is still v1) the newline
 * is added and the entry kept; anything else stays torn
 * and the append cuts it (recorded in `log.recovered`). With `evolve`, a key in use for more
 * than 24 h is rotated first.
 *
 * @example
 * ```ts
 * import type { OpenLog } from "./writer.ts";
 * const dir = "/srv/state";
 * declare const log: OpenLog;
 * const signer = await signerForAppend(dir, log, { evolve: true });
 * ```
 */
export async function signerForAppend(
  stateDir: string,
  log: OpenLog,
  options: { evolve?: boolean } = {},
): Promise<KeySigner> {
  const torn = log.tail.torn;
  if (torn) {
    const p = parseEntryLine(torn.bytes);
    const key = p.ok ? await expectedPublicKey(stateDir, log.tail.last) : undefined;
    if (
      p.ok && key && p.entry.seq === log.tail.seq + 1 && p.entry.prev === log.tail.prev &&
      p.entry.kid === key.kid
    ) {
      const publicKey = publicKeyFromRaw(key.raw);
      if (!p.v1Form && checkLineSignature(torn.bytes, publicKey)) {
        await log.completeTorn(p.entry);
      } else if (
        // A v1 entry (an old writer died before its newline) only while the history is still
        // v1: after format.upgraded it would be a downgrade, and is cut like any partial line.
        (log.tail.v1 || !log.tail.last) && checkV1Signature(p.entry, publicKey)
      ) {
        await log.completeTorn(p.entry, { v1: true });
      }
    }
  }
  let signer = await signerForTail(stateDir, log.tail);
  if (options.evolve && await keyIsStale(stateDir, signer.kid)) {
    const next = await announceNextKey(stateDir, log, signer, "key in use for 24 h");
    await finishRotation(stateDir, signer.kid, next.signer, next.seq);
    signer = next.signer;
  }
  return signer;
}

// The public key that must have signed the entry after `last` (its private half may already be
// destroyed by a rotation that finished after the crash).
async function expectedPublicKey(
  stateDir: string,
  last: AuditEntry | undefined,
): Promise<{ kid: string; raw: Uint8Array } | undefined> {
  const ring = await readKeyring(stateDir);
  if (!last) {
    const root = keyForSeq(ring, 1);
    return root && { kid: root.kid, raw: root.publicKeyRaw };
  }
  if (last.action === "key.rotated") {
    return { kid: String(last.new_kid), raw: Buffer.from(String(last.new_public_key), "base64") };
  }
  const k = ring.keys[last.kid];
  return k && { kid: last.kid, raw: Buffer.from(k.public_key, "base64") };
}
