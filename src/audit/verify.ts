/**
 * `verifyAuditLog`: the I/O around `verifyHistory` — load the files, the trust root, the
 * checkpoints (files and every checkpoint the configured witnesses hold), and check every
 * line's own rules (parse, seq, prev, signature) on worker threads and this one at once.
 *
 * @example
 * ```ts
 * import { verifyAuditLog } from "./verify.ts";
 * const r = await verifyAuditLog("/srv/state", { pubkeyFile: "/safe/audit.pub" });
 * ```
 * @module
 */
import type { Checkpoint } from "./checkpoint_core.ts";
import { parseCheckpoint } from "./checkpoint_core.ts";
import { AuditInputError } from "./errors.ts";
import { keyForSeq, kidOf, parseKeyring, parsePublicKeyText } from "./keys.ts";
import { loadHistory } from "./history.ts";
import { historyLines } from "./lines.ts";
import { checkLinesInParallel, startLaneWorkers } from "./parallel_sigs.ts";
import { readKeyring } from "./signing.ts";
import type { TrustRoot, VerifyResult } from "./verdict.ts";
import { verifyHistory } from "./verify_core.ts";
import {
  checkpointOrigin,
  fetchWitnessCheckpoints,
  witnessesFrom,
  type WitnessSettings,
} from "./witness/mod.ts";

/** What to verify against besides the chain itself. */
export interface VerifyOptions {
  /** Trust root kept off the host: a PEM/base64 public key, or a keyring JSON. */
  pubkeyFile?: string;
  /** Checkpoint files (C2SP checkpoint text). */
  checkpointFiles?: string[];
  /** Checkpoints already in hand (e.g. fetched from the witnesses before taking the lock). */
  checkpoints?: Checkpoint[];
  /** Read every checkpoint the configured witnesses hold. */
  witness?: WitnessSettings;
}

/**
 * Verifies the whole history (rotated files then the live log). Throws `AuditInputError` for
 * input it cannot use (no log, no trust root, an unreadable or foreign checkpoint, an
 * unreachable witness); returns `ok: false` with the first bad line for a log that fails.
 *
 * Trust root: `--pubkey`, else the first key of `<stateDir>/audit-keyring.json`. Later keys are
 * learned from the chain only.
 *
 * @example
 * ```ts
 * const dir = "/srv/state";
 * const r = await verifyAuditLog(dir, { checkpointFiles: ["/safe/cp.txt"] });
 * if (!r.ok) console.log(r.firstBad!.line, r.firstBad!.reason);
 * ```
 */
export async function verifyAuditLog(
  stateDir: string,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const root = await trustRoot(stateDir, options.pubkeyFile);
  const checkpoints = [...options.checkpoints ?? []];
  for (const path of options.checkpointFiles ?? []) {
    checkpoints.push(parseCheckpoint(await readInput(path, "checkpoint"), path));
  }
  if (options.witness?.witness) {
    const ws = witnessesFrom(options.witness.witness, stateDir, options.witness.configFile);
    checkpoints.push(...await fetchWitnessCheckpoints(ws, checkpointOrigin(options.witness)));
  }
  const files = await loadHistory(stateDir, { shared: true });
  // Workers and this thread check every line's own rules at once; the pass over the chain then
  // reads their verdicts (and looks closer only at a history that is not clean). The workers
  // load their code while this thread splits the lines.
  const workers = startLaneWorkers({
    historyBytes: files.reduce((n, f) => n + f.bytes.length, 0),
  });
  const lines = historyLines(files);
  const lanes = await checkLinesInParallel(lines, root, workers);
  return verifyHistory(files, root, { checkpoints, lanes, lines });
}

/**
 * The trust root verification starts from: the key in `pubkeyFile` (PEM/base64, or a keyring
 * JSON's key for seq 1), else the first key of `<stateDir>/audit-keyring.json`. Throws
 * `AuditInputError` when there is none.
 *
 * @example
 * ```ts
 * const root = await trustRoot("/srv/state");
 * console.log(root.kid);
 * ```
 */
export async function trustRoot(stateDir: string, pubkeyFile?: string): Promise<TrustRoot> {
  if (pubkeyFile) {
    const text = await readInput(pubkeyFile, "public key");
    if (text.trimStart().startsWith("{")) {
      const k = keyForSeq(parseKeyring(text, pubkeyFile), 1);
      if (!k) throw new AuditInputError(`${pubkeyFile} has no key valid from seq 1`);
      return k;
    }
    const raw = parsePublicKeyText(text, pubkeyFile);
    return { kid: kidOf(raw), publicKeyRaw: raw };
  }
  let k;
  try {
    k = keyForSeq(await readKeyring(stateDir), 1);
  } catch (err) {
    if (err instanceof AuditInputError) throw err;
    throw new AuditInputError(
      `cannot read ${stateDir}/audit-keyring.json: ${(err as Error).message}`,
    );
  }
  if (!k) {
    throw new AuditInputError(
      `no trust root: ${stateDir}/audit-keyring.json is missing or has no key for seq 1; pass --pubkey FILE`,
    );
  }
  return k;
}

// Any failure to read an input the user named is bad input (exit 2), never a stack trace.
async function readInput(path: string, what: string): Promise<string> {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(await Deno.readFile(path));
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound
      ? "not found"
      : err instanceof TypeError
      ? "not UTF-8 text"
      : (err as Error).message;
    throw new AuditInputError(`cannot read ${what} file ${path}: ${why}`);
  }
}
