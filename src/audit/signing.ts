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
import { AuditRefusedError, MissingSigningKeyError } from "./errors.ts";
import { exists, writePrivateFileAtomic, writePrivateFileExclusive } from "./fs.ts";
import { type Keyring, type KeySigner, newKeyPair, parseKeyring, signerFromPem } from "./keys.ts";
import { auditPaths, rotatedLogFiles } from "./paths.ts";
import { type LogTail, openLogForAppend, withAuditLock } from "./writer.ts";

/**
 * True when a signing key exists (appends will not throw `MissingSigningKeyError`).
 *
 * @example
 * ```ts
 * if (!await hasSigningKey(dir)) console.log("run deno task audit:keygen");
 * ```
 */
export async function hasSigningKey(stateDir: string): Promise<boolean> {
  return await exists(auditPaths(stateDir).key);
}

/**
 * Loads the signer from `audit-signing.key`.
 *
 * @example
 * ```ts
 * const signer = await loadSigner("/srv/state"); // throws MissingSigningKeyError if absent
 * ```
 */
export async function loadSigner(stateDir: string): Promise<KeySigner> {
  const path = auditPaths(stateDir).key;
  try {
    return signerFromPem(await Deno.readTextFile(path));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new MissingSigningKeyError(path);
    throw err;
  }
}

/**
 * The signer the chain expects next, given the tail read under the lock. Finishes a rotation
 * that crashed after its key.rotated entry was written, and refuses a key the chain does not
 * expect (signing with it would only produce entries the verifier rejects).
 *
 * @example
 * ```ts
 * const signer = await signerForTail(dir, log.tail);
 * ```
 */
export async function signerForTail(stateDir: string, tail: LogTail): Promise<KeySigner> {
  const signer = await loadSigner(stateDir);
  const last = tail.last;
  if (!last) return signer;
  const expected = last.action === "key.rotated" ? String(last.new_kid) : last.kid;
  if (signer.kid === expected) return signer;
  const p = auditPaths(stateDir);
  if (last.action === "key.rotated" && await exists(p.pendingKey)) {
    const pending = signerFromPem(await Deno.readTextFile(p.pendingKey));
    if (pending.kid === expected) {
      await finishRotation(stateDir, signer.kid, pending, last.seq);
      return pending;
    }
  }
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
  if (await exists(p.key)) {
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
 * Rotates the signing key: writes a `key.rotated` entry signed with the OLD key announcing the
 * new kid and public key, then installs the new key. The new key is staged on disk first, so a
 * crash at any point leaves either no rotation or one the next append finishes.
 *
 * @example
 * ```ts
 * const { oldKid, kid, seq } = await rotateSigningKey("/srv/state");
 * ```
 */
export async function rotateSigningKey(
  stateDir: string,
): Promise<{ oldKid: string; kid: string; publicKeyPem: string; seq: number }> {
  await loadSigner(stateDir); // fail with the friendly error before taking the lock
  return await withAuditLock(stateDir, async () => {
    const log = await openLogForAppend(stateDir);
    try {
      const old = await signerForTail(stateDir, log.tail);
      const kp = newKeyPair();
      const p = auditPaths(stateDir);
      await writePrivateFileAtomic(p.pendingKey, kp.privatePem);
      const [entry] = await log.append([{
        action: "key.rotated",
        status: "success",
        old_kid: old.kid,
        new_kid: kp.kid,
        new_public_key: Buffer.from(kp.publicKeyRaw).toString("base64"),
      }], old);
      await finishRotation(stateDir, old.kid, signerFromPem(kp.privatePem), entry.seq);
      return { oldKid: old.kid, kid: kp.kid, publicKeyPem: kp.publicKeyPem, seq: entry.seq };
    } finally {
      log.close();
    }
  });
}

async function finishRotation(
  stateDir: string,
  oldKid: string,
  next: KeySigner,
  seq: number,
): Promise<void> {
  const p = auditPaths(stateDir);
  await writePrivateFileAtomic(p.key, await Deno.readTextFile(p.pendingKey));
  await Deno.remove(p.pendingKey);
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

/**
 * Reads `audit-keyring.json` (an empty keyring when it does not exist).
 *
 * @example
 * ```ts
 * const ring = await readKeyring("/srv/state");
 * ```
 */
export async function readKeyring(stateDir: string): Promise<Keyring> {
  try {
    return parseKeyring(await Deno.readTextFile(auditPaths(stateDir).keyring));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { version: 1, keys: {} };
    throw err;
  }
}
