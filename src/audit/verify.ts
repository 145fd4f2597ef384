/**
 * `verifyAuditLog`: the I/O around `verifyHistory` — load the files, the trust root and the
 * checkpoint.
 *
 * @example
 * ```ts
 * import { verifyAuditLog } from "./verify.ts";
 * const r = await verifyAuditLog("/srv/state", { pubkeyFile: "/safe/audit.pub" });
 * ```
 * @module
 */
import { AuditInputError } from "./errors.ts";
import { keyForSeq, kidOf, parseKeyring, parsePublicKeyText } from "./keys.ts";
import { parseCheckpoint } from "./checkpoint_core.ts";
import { loadHistory } from "./history.ts";
import { precomputeSignatures } from "./parallel_sigs.ts";
import { readKeyring } from "./signing.ts";
import { type TrustRoot, verifyHistory, type VerifyResult } from "./verify_core.ts";

/**
 * Verifies the whole history (rotated files then the live log). Throws `AuditInputError` for
 * input it cannot use (no log, no trust root, unreadable checkpoint); returns `ok: false` with
 * the first bad line for a log that fails.
 *
 * Trust root: `--pubkey` (a PEM/base64 public key or a keyring JSON kept off the host), else
 * the first key of `<stateDir>/audit-keyring.json`. Later keys are learned from the chain.
 *
 * @example
 * ```ts
 * const r = await verifyAuditLog(dir, { checkpointFile: "/safe/cp.json" });
 * if (!r.ok) console.log(r.firstBad!.line, r.firstBad!.reason);
 * ```
 */
export async function verifyAuditLog(
  stateDir: string,
  options: { pubkeyFile?: string; checkpointFile?: string } = {},
): Promise<VerifyResult> {
  const root = await trustRoot(stateDir, options.pubkeyFile);
  const checkpoint = options.checkpointFile
    ? parseCheckpoint(await readInput(options.checkpointFile, "checkpoint"))
    : undefined;
  const files = await loadHistory(stateDir);
  const hints = await precomputeSignatures(files, root);
  return verifyHistory(files, root, { checkpoint, hints });
}

async function trustRoot(stateDir: string, pubkeyFile?: string): Promise<TrustRoot> {
  if (pubkeyFile) {
    const text = await readInput(pubkeyFile, "public key");
    if (text.trimStart().startsWith("{")) {
      const k = keyForSeq(parseKeyring(text), 1);
      if (!k) throw new AuditInputError(`${pubkeyFile} has no key valid from seq 1`);
      return k;
    }
    const raw = parsePublicKeyText(text);
    return { kid: kidOf(raw), publicKeyRaw: raw };
  }
  const k = keyForSeq(await readKeyring(stateDir), 1);
  if (!k) {
    throw new AuditInputError(
      `no trust root: ${stateDir}/audit-keyring.json is missing or has no key for seq 1; pass --pubkey FILE`,
    );
  }
  return k;
}

async function readInput(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new AuditInputError(`${what} file not found: ${path}`);
    }
    throw err;
  }
}
