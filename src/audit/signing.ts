/**
 * The signing key's life: create it once, load it for each append, rotate it through the chain.
 *
 * The private key lives in `<stateDir>/audit-signing.key` (PKCS8 PEM, 0600); public keys and
 * the seq range each may sign live in `<stateDir>/audit-keyring.json`. The verifier only takes
 * the keyring's first key on trust; later keys are learned from `key.rotated` entries, each
 * signed by the key it replaces.
 *
 * @example
 * ```ts
 * import { generateSigningKey, rotateSigningKey } from "./signing.ts";
 * const { kid } = await generateSigningKey("/srv/state");
 * const r = await rotateSigningKey("/srv/state"); // r.oldKid === kid
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { ensureStateDir } from "../state/mod.ts";
import { ACTION } from "./actions.ts";
import { AuditRefusedError, MissingSigningKeyError } from "./errors.ts";
import {
  exists,
  fileIdentity,
  syncDir,
  writeAll,
  writePrivateFileAtomic,
  writePrivateFileExclusive,
} from "./fs.ts";
import {
  forgetSigner,
  type Keyring,
  type KeySigner,
  newKeyPair,
  parseKeyring,
  signerFromPem,
} from "./keys.ts";
import { auditPaths, rotatedLogFiles } from "./paths.ts";
import { type LogTail, type OpenLog, openLogForAppend, withAuditLock } from "./writer.ts";

/**
 * True when a signing key exists (appends will not throw `MissingSigningKeyError`).
 *
 * @example
 * ```ts
 * const dir = "/srv/state";
 * if (!hasSigningKey(dir)) console.log("run deno task audit:keygen");
 * ```
 */
export function hasSigningKey(stateDir: string): boolean {
  const p = auditPaths(stateDir);
  // A staged next key counts: a crash mid-rotation is finished by the next append.
  return exists(p.key) || exists(p.pendingKey);
}

/**
 * Throws `MissingSigningKeyError` unless a signing key (or a staged next key) exists: the
 * friendly check before taking the lock.
 *
 * @example
 * ```ts
 * requireSigningKey("/srv/state");
 * ```
 */
export function requireSigningKey(stateDir: string): void {
  if (!hasSigningKey(stateDir)) throw new MissingSigningKeyError(auditPaths(stateDir).key);
}

/**
 * Loads the signer from `audit-signing.key`, tightening the file to 0600 if it was loosened.
 *
 * @example
 * ```ts
 * const signer = await loadSigner("/srv/state"); // throws MissingSigningKeyError if absent
 * ```
 */
export async function loadSigner(stateDir: string): Promise<KeySigner> {
  const path = auditPaths(stateDir).key;
  try {
    // Synchronous, as `exists`: this runs for every append.
    const st = Deno.statSync(path);
    if ((st.mode ?? 0) & 0o077) await Deno.chmod(path, 0o600);
    // Every step of a run appends: the stat above says whether the file is still the one read
    // last time (a key evolution renames a new file into place; an edit changes size or times).
    const id = fileIdentity(st);
    const cached = loadedSigners.get(path);
    if (cached?.id === id) return cached.signer;
    const signer = signerFromPem(await Deno.readTextFile(path));
    loadedSigners.set(path, { id, signer });
    return signer;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new MissingSigningKeyError(path);
    throw err;
  }
}

const loadedSigners = new Map<string, { id: string; signer: KeySigner }>();

/**
 * The signer the chain expects next, given the tail read under the lock. Finishes a rotation
 * that crashed after its key.rotated entry was written, and refuses a key the chain does not
 * expect (signing with it would only produce entries the verifier rejects).
 *
 * @example
 * ```ts
 * import type { OpenLog } from "./writer.ts";
 * const dir = "/srv/state";
 * declare const log: OpenLog;
 * const signer = await signerForTail(dir, log.tail);
 * ```
 */
export async function signerForTail(stateDir: string, tail: LogTail): Promise<KeySigner> {
  const last = tail.last;
  const p = auditPaths(stateDir);
  const expected = last && (last.action === "key.rotated" ? String(last.new_kid) : last.kid);
  // A crash between the key.rotated entry and installing its key: finish first, because the old
  // key file may already be overwritten.
  if (last?.action === "key.rotated" && exists(p.pendingKey)) {
    const pending = signerFromPem(await Deno.readTextFile(p.pendingKey));
    if (pending.kid === expected) {
      await finishRotation(stateDir, String(last.old_kid), pending, last.seq);
      return pending;
    }
  }
  const signer = await loadSigner(stateDir);
  if (!expected || signer.kid === expected) return signer;
  throw new AuditRefusedError(
    `audit signing key ${signer.kid} is not the key the log expects next (${expected}); ` +
      "restore the right key to " + p.key,
  );
}

/**
 * Creates the first Ed25519 signing key and a keyring trusting it from seq 1. Refuses to
 * overwrite a key, and refuses when a history already exists (a new key cannot continue a
 * chain it did not sign).
 *
 * @example
 * ```ts
 * const { kid, publicKeyPem } = await generateSigningKey("/srv/state");
 * ```
 */
export async function generateSigningKey(
  stateDir: string,
): Promise<{ kid: string; publicKeyPem: string }> {
  await ensureStateDir(stateDir);
  const p = auditPaths(stateDir);
  if (exists(p.key)) {
    throw new AuditRefusedError(
      `an audit signing key already exists at ${p.key}; use \`deno task audit:rotate-key\` to replace it`,
    );
  }
  const logSize = await Deno.stat(p.log).then((s) => s.size, () => 0);
  if (logSize > 0 || (await rotatedLogFiles(stateDir)).length > 0) {
    throw new AuditRefusedError(
      `${p.log} already has entries signed by another key; restore that key to ${p.key} ` +
        "(a new key cannot continue a chain it did not sign), or archive the log to start a new history",
    );
  }
  const kp = newKeyPair();
  try {
    await writePrivateFileExclusive(p.key, kp.privatePem);
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) {
      throw new AuditRefusedError(
        `an audit signing key already exists at ${p.key}; use \`deno task audit:rotate-key\``,
      );
    }
    throw err;
  }
  const ring: Keyring = {
    version: 1,
    keys: {
      [kp.kid]: {
        public_key: Buffer.from(kp.publicKeyRaw).toString("base64"),
        from_seq: 1,
        to_seq: null,
        created: new Date().toISOString(),
      },
    },
  };
  await writePrivateFileAtomic(p.keyring, JSON.stringify(ring, null, 2) + "\n");
  return { kid: kp.kid, publicKeyPem: kp.publicKeyPem };
}

/**
 * Rotates the signing key (forward security): a `key.rotated` entry signed with the OLD key
 * announces the new kid and public key, then the old private key is overwritten and unlinked.
 * The new key is staged on disk first, so a crash at any point leaves either no rotation or one
 * the next append finishes.
 *
 * @example
 * ```ts
 * const { oldKid, kid, seq } = await rotateSigningKey("/srv/state");
 * ```
 */
export async function rotateSigningKey(
  stateDir: string,
  reason = "manual",
): Promise<{ oldKid: string; kid: string; publicKeyPem: string; seq: number }> {
  requireSigningKey(stateDir); // fail with the friendly error before taking the lock
  return await withAuditLock(stateDir, async () => {
    const log = await openLogForAppend(stateDir);
    try {
      const old = await signerForTail(stateDir, log.tail);
      const next = await announceNextKey(stateDir, log, old, reason);
      await finishRotation(stateDir, old.kid, next.signer, next.seq);
      return {
        oldKid: old.kid,
        kid: next.signer.kid,
        publicKeyPem: next.signer.publicKeyPem,
        seq: next.seq,
      };
    } finally {
      log.close();
    }
  });
}

/**
 * First half of a rotation, under the lock: stage the next key and append the `key.rotated`
 * entry signed by `old`. The caller may still sign with `old` (a checkpoint of the log up to
 * this entry) before `finishRotation` destroys it.
 *
 * @example
 * ```ts
 * import type { KeySigner } from "./keys.ts";
 * import type { OpenLog } from "./writer.ts";
 * const dir = "/srv/state";
 * declare const log: OpenLog;
 * declare const old: KeySigner;
 * const next = await announceNextKey(dir, log, old, "end of run");
 * await finishRotation(dir, old.kid, next.signer, next.seq);
 * ```
 */
export async function announceNextKey(
  stateDir: string,
  log: OpenLog,
  old: KeySigner,
  reason: string,
): Promise<{ signer: KeySigner; seq: number }> {
  const kp = newKeyPair();
  const p = auditPaths(stateDir);
  await writePrivateFileAtomic(p.pendingKey, kp.privatePem);
  const [entry] = await log.append([{
    action: ACTION.keyRotated,
    status: "success",
    reason,
    old_kid: old.kid,
    new_kid: kp.kid,
    new_public_key: Buffer.from(kp.publicKeyRaw).toString("base64"),
  }], old);
  return { signer: signerFromPem(kp.privatePem), seq: entry.seq };
}

/**
 * Second half of a rotation: destroy the old private key (overwrite in place, fsync, then the
 * staged key replaces it) and record both keys' seq ranges in the keyring.
 *
 * @example
 * ```ts
 * import type { KeySigner } from "./keys.ts";
 * const dir = "/srv/state";
 * declare const oldKid: string;
 * declare const nextSigner: KeySigner;
 * declare const rotatedSeq: number;
 * await finishRotation(dir, oldKid, nextSigner, rotatedSeq);
 * ```
 */
export async function finishRotation(
  stateDir: string,
  oldKid: string,
  next: KeySigner,
  seq: number,
): Promise<void> {
  const p = auditPaths(stateDir);
  await destroyFile(p.key);
  await Deno.rename(p.pendingKey, p.key);
  await syncDir(stateDir);
  // The next append signs with `next`: no need to read back the file just renamed into place.
  loadedSigners.set(p.key, { id: fileIdentity(await Deno.stat(p.key)), signer: next });
  const ring = await readKeyring(stateDir);
  if (ring.keys[oldKid]) ring.keys[oldKid].to_seq = seq;
  ring.keys[next.kid] = {
    public_key: next.publicKeyB64,
    from_seq: seq + 1,
    to_seq: null,
    created: new Date().toISOString(),
  };
  await writePrivateFileAtomic(p.keyring, JSON.stringify(ring, null, 2) + "\n");
}

/** Keys older than this are evolved before the next append, even without a run ending. */
export const KEY_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/**
 * True when the current key has been in use longer than `KEY_MAX_AGE_MS` (per the keyring).
 *
 * @example
 * ```ts
 * import type { KeySigner } from "./keys.ts";
 * const dir = "/srv/state";
 * declare const signer: KeySigner;
 * if (await keyIsStale(dir, signer.kid)) console.log("rotate");
 * ```
 */
export async function keyIsStale(
  stateDir: string,
  kid: string,
  now = Date.now(),
): Promise<boolean> {
  // Read, not edited: the cached keyring itself. A copy per append cost ~1 µs a key, and the
  // keyring gains a key with every command that ends (0.4 ms an append at 400 keys).
  const created = (await cachedKeyring(stateDir)).keys[kid]?.created;
  const t = created ? Date.parse(created) : NaN;
  return Number.isFinite(t) && now - t > KEY_MAX_AGE_MS;
}

// Overwrites a private key file in place and fsyncs before it is unlinked (or replaced), so the
// old key's bytes do not linger in a free block on simple filesystems. (Copy-on-write and
// journaling filesystems or SSD remapping can still keep old blocks: documented in the README.)
async function destroyFile(path: string): Promise<void> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path, { read: true, write: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  try {
    const old = await Deno.readTextFile(path).catch(() => "");
    forgetSigner(old);
    loadedSigners.delete(path);
    const size = (await f.stat()).size;
    const noise = new Uint8Array(size);
    crypto.getRandomValues(noise.subarray(0, Math.min(size, 65536)));
    await writeAll(f, noise);
    await f.syncData();
  } finally {
    f.close();
  }
  await Deno.remove(path);
}

/**
 * Reads `audit-keyring.json` (an empty keyring when it does not exist).
 *
 * @example
 * ```ts
 * const ring = await readKeyring("/srv/state");
 * ```
 */
export async function readKeyring(stateDir: string): Promise<Keyring> {
  return structuredClone(await cachedKeyring(stateDir)); // callers may edit it (`finishRotation`)
}

/** The keyring as last read (the cache's own object: never to be edited). */
async function cachedKeyring(stateDir: string): Promise<Keyring> {
  const path = auditPaths(stateDir).keyring;
  try {
    // A stat instead of a read and a parse per append (see `loadSigner`).
    const id = fileIdentity(Deno.statSync(path)); // synchronous, as `exists`
    let cached = keyrings.get(path);
    if (cached?.id !== id) {
      cached = { id, ring: parseKeyring(await Deno.readTextFile(path), path) };
      keyrings.set(path, cached);
    }
    return cached.ring;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { version: 1, keys: {} };
    throw err;
  }
}

const keyrings = new Map<string, { id: string; ring: Keyring }>();
