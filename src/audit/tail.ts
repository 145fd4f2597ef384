/**
 * Getting the live log ready for the next write, under the lock: keep a complete last line that
 * only lacks its newline, pick the key the chain expects, and evolve that key when it is older
 * than a day.
 *
 * @example
 * ```ts
 * import { signerForAppend } from "./tail.ts";
 * const signer = await signerForAppend(stateDir, log);
 * await log.append([{ action: "deploy" }], signer);
 * ```
 * @module
 */
import { parseEntryLine } from "./entry.ts";
import { type KeySigner, publicKeyFromRaw } from "./keys.ts";
import { announceNextKey, finishRotation, keyIsStale, signerForTail } from "./signing.ts";
import { checkLineSignature } from "./verify_core.ts";
import type { OpenLog } from "./writer.ts";

/**
 * The signer for the next append. A crash can leave the last entry fully written but without
 * its newline: when those bytes are exactly the next entry (right seq and prev, canonical,
 * signed by the expected key) the newline is added and the entry kept; anything else stays torn
 * and the append cuts it (recorded in `log.recovered`). With `evolve`, a key in use for more
 * than 24 h is rotated first.
 *
 * @example
 * ```ts
 * const signer = await signerForAppend(dir, log, { evolve: true });
 * ```
 */
export async function signerForAppend(
  stateDir: string,
  log: OpenLog,
  options: { evolve?: boolean } = {},
): Promise<KeySigner> {
  let signer = await signerForTail(stateDir, log.tail);
  const torn = log.tail.torn;
  if (torn) {
    const p = parseEntryLine(torn.bytes);
    if (
      p.ok && p.entry.seq === log.tail.seq + 1 && p.entry.prev === log.tail.prev &&
      p.entry.kid === signer.kid &&
      checkLineSignature(torn.bytes, publicKeyFromRaw(signer.publicKeyRaw))
    ) {
      await log.completeTorn(p.entry);
      signer = await signerForTail(stateDir, log.tail);
    }
  }
  if (options.evolve && await keyIsStale(stateDir, signer.kid)) {
    const next = await announceNextKey(stateDir, log, signer, "key in use for 24 h");
    await finishRotation(stateDir, signer.kid, next.signer, next.seq);
    signer = next.signer;
  }
  return signer;
}
