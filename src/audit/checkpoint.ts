/**
 * Writing a checkpoint: verify the log first (never sign over a log that fails), optionally
 * evolve the signing key in the same breath (end of run), sign the C2SP checkpoint with the key
 * that signed the last entry, keep a copy in `<stateDir>/checkpoints/`, and publish it to every
 * configured witness. A publish that fails is retried, reported on stderr and recorded in the
 * log as `checkpoint.unpublished`.
 *
 * @example
 * ```ts
 * import { writeCheckpoint } from "./checkpoint.ts";
 * const r = await writeCheckpoint("/srv/state", { rotate: true, witness: { witness: { http: "http://w:8700", branch: "audit-checkpoints" } } });
 * console.log(r.size, r.path, r.published);
 * ```
 * @module
 */
import { join } from "node:path";
import { ensureStateDir } from "../state/mod.ts";
import { ACTION } from "./actions.ts";
import { appendAudit } from "./append.ts";
import { makeCheckpoint } from "./checkpoint_core.ts";
import { AuditRefusedError } from "./errors.ts";
import { writePrivateFileAtomic } from "./fs.ts";
import { loadHistory } from "./history.ts";
import { consistencyProof, type Hash, leafHash, TreeEdge } from "./merkle.ts";
import { auditPaths } from "./paths.ts";
import { announceNextKey, finishRotation, requireSigningKey } from "./signing.ts";
import { signerForAppend } from "./tail.ts";
import { verifyAuditLog } from "./verify.ts";
import { type HistoryLines, historyLines, lineBytes } from "./lines.ts";
import { GENESIS_PREV, sha256Hex } from "./entry.ts";
import { verifyFrom } from "./verify_core.ts";
import { type SealVerdict, verifySinceLastSeal } from "./seal_verify.ts";
import {
  checkpointOrigin,
  fetchWitnessCheckpoints,
  type Witness,
  witnessesFrom,
  type WitnessSettings,
} from "./witness/mod.ts";
import { openLogForAppend, withAuditLock } from "./writer.ts";
import { noteAuditSealed } from "./written.ts";
import type { Checkpoint } from "./checkpoint_core.ts";

/** How one witness took the checkpoint. */
export interface PublishOutcome {
  witness: string;
  ok: boolean;
  attempts: number;
  error?: string;
}

/** A written checkpoint. */
export interface CheckpointResult {
  text: string;
  origin: string;
  size: number;
  kid: string;
  path: string;
  /**
   * Set when the log was verified from an earlier checkpoint: its size. The entries up to it
   * were proven unchanged by its root; those after it were verified one by one.
   */
  since?: number;
  /** Set when the key was evolved: the key.rotated entry's seq and the new kid. */
  rotated?: { seq: number; kid: string };
  published: PublishOutcome[];
}

/** Options of `writeCheckpoint`. */
export interface CheckpointOptions {
  /** Evolve the signing key first (end of every run). */
  rotate?: boolean;
  /** Where to write the local copy (default `<stateDir>/checkpoints/<ts>.txt`). */
  out?: string;
  /** Origin and witnesses from `protocol.yaml`. */
  witness?: WitnessSettings;
  /** Delay before publish retries, ms (tests shorten it). */
  retryDelayMs?: number;
}

/**
 * Verifies the log (against the witnesses' checkpoints too), then signs and publishes a
 * checkpoint. Throws `AuditRefusedError` (exit 1) when the log does not verify.
 *
 * @example
 * ```ts
 * const { text } = await writeCheckpoint("/srv/state");
 * ```
 */
export async function writeCheckpoint(
  stateDir: string,
  options: CheckpointOptions = {},
): Promise<CheckpointResult> {
  requireSigningKey(stateDir); // MissingSigningKeyError before taking the lock
  const settings = options.witness ?? {};
  const origin = checkpointOrigin(settings);
  const witnesses = witnessesFrom(settings.witness, stateDir, settings.configFile);
  const held: Checkpoint[] = [];
  for (const w of witnesses) {
    try {
      held.push(...await fetchWitnessCheckpoints([w], origin));
    } catch (err) {
      // The log is still verified on its own and signed; publishing to this witness is retried
      // below and reported if it keeps failing.
      console.error(`WARNING: ${(err as Error).message}`);
    }
  }
  const signed = await withAuditLock(stateDir, async () => {
    const log = await openLogForAppend(stateDir);
    try {
      // Entries an earlier checkpoint still covers verified when it was signed; only the ones
      // after it are checked again (`seal_verify.ts`). Without such a checkpoint, or when that
      // check fails, the whole history is verified, which also names what is wrong.
      const since = await verifySinceLastSeal(stateDir, held);
      let signer;
      let verified = since?.entries ?? 0;
      if (!since) {
        let verdict = await verifyAuditLog(stateDir, { checkpoints: held });
        if (verdict.firstBad?.reason === "torn last line") {
          // A crash mid-append is not tampering: keep a complete entry, or cut and record a
          // partial one, then judge the log again.
          signer = await signerForAppend(stateDir, log);
          if (log.tail.torn) await log.append([], signer);
          verdict = await verifyAuditLog(stateDir, { checkpoints: held });
        }
        if (!verdict.ok) {
          const b = verdict.firstBad!;
          throw new AuditRefusedError(
            `refusing to sign a checkpoint over a log that does not verify: line ${b.line} of ` +
              `${b.file}: ${b.reason} (${b.detail})`,
          );
        }
        verified = verdict.entries;
      }
      signer ??= await signerForAppend(stateDir, log);
      const next = options.rotate
        ? await announceNextKey(stateDir, log, signer, "end of run")
        : undefined;
      const { leaves, tree, added } = await historyTree(stateDir, since, verified);
      const size = leaves.length;
      // What was appended since the verification must be this seal's own entries (its
      // key.rotated, a format.upgraded): a line written behind the lock's back is refused.
      const ownAppends = verifyFrom(added.lines, signer, {
        from: added.from,
        seq: verified + 1,
        current: signer.kid,
        expPrev: added.expPrev,
      }, new Map([[signer.kid, signer.publicKeyRaw]]));
      if (!ownAppends.ok) {
        const b = ownAppends.firstBad!;
        throw new AuditRefusedError(
          "refusing to sign a checkpoint: the log changed while it was being sealed: " +
            `${b.reason} (${b.detail})`,
        );
      }
      const text = makeCheckpoint(origin, size, tree.root(), signer);
      if (next) await finishRotation(stateDir, signer.kid, next.signer, next.seq);
      return { text, size, leaves, kid: signer.kid, next, since: since?.since };
    } finally {
      log.close();
    }
  });
  const ts = new Date().toISOString();
  const path = options.out ??
    join(await ensureStateDir(auditPaths(stateDir).checkpoints), `${ts.replace(/[:.]/g, "-")}.txt`);
  await writePrivateFileAtomic(path, signed.text);
  const published: PublishOutcome[] = [];
  for (const w of witnesses) {
    published.push(
      await publishWithRetry(w, signed.text, signed.size, signed.leaves, options.retryDelayMs),
    );
  }
  for (const p of published.filter((p) => !p.ok)) {
    console.error(
      `WARNING: audit checkpoint of ${signed.size} entries was NOT published to ${p.witness}` +
        ` (${p.attempts} attempts): ${p.error}\n  it is kept in ${path}; ` +
        "run `deno task audit:checkpoint` once the witness is back",
    );
    await appendAudit(stateDir, {
      action: ACTION.checkpointUnpublished,
      status: "failure",
      witness: p.witness,
      size: signed.size,
      error: (p.error ?? "").slice(0, 2000),
    });
  }
  noteAuditSealed(stateDir);
  return {
    text: signed.text,
    origin,
    size: signed.size,
    kid: signed.kid,
    path,
    since: signed.since,
    rotated: signed.next && { seq: signed.next.seq, kid: signed.next.signer.kid },
    published,
  };
}

// The leaves and the tree of every complete line of the history, and the lines appended since
// the first `verified` ones (from index `from` of `lines`, after a line hashing to `expPrev`).
// After a verification from a checkpoint, only the bytes appended to the live log since are read
// and hashed (the rest is unchanged: the audit lock is held).
async function historyTree(
  stateDir: string,
  since: SealVerdict | undefined,
  verified: number,
): Promise<{
  leaves: Hash[];
  tree: TreeEdge;
  added: { lines: HistoryLines; from: number; expPrev: string };
}> {
  if (!since) {
    const lines = historyLines(await loadHistory(stateDir));
    const expPrev = verified === 0 ? GENESIS_PREV : sha256Hex(lineBytes(lines, verified - 1));
    return { ...addLeaves(lines, [], new TreeEdge()), added: { lines, from: verified, expPrev } };
  }
  using file = await Deno.open(since.end.file, { read: true });
  await file.seek(since.end.bytes, Deno.SeekMode.Start);
  const bytes = new Uint8Array(await new Response(file.readable).arrayBuffer());
  const lines = historyLines([{ name: since.end.file, bytes }]);
  return {
    ...addLeaves(lines, since.leaves, since.tree),
    added: { lines, from: 0, expPrev: since.lastHash },
  };
}

// Adds the leaf of every complete line of `lines` to `leaves` and `tree`.
function addLeaves(
  lines: HistoryLines,
  leaves: Hash[],
  tree: TreeEdge,
): { leaves: Hash[]; tree: TreeEdge } {
  for (let i = 0; i < lines.count; i++) {
    if (lines.torn.has(i)) continue;
    const leaf = leafHash(lineBytes(lines, i));
    leaves.push(leaf);
    tree.push(leaf);
  }
  return { leaves, tree };
}

async function publishWithRetry(
  w: Witness,
  text: string,
  size: number,
  leaves: Hash[],
  delayMs = 1000,
): Promise<PublishOutcome> {
  let error = "";
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      await w.publish(text, size, (old) => consistencyProof(leaves, Math.min(old, size), size));
      return { witness: w.name, ok: true, attempts: attempt };
    } catch (err) {
      error = (err as Error).message;
      if (attempt < 3) await new Promise((r) => setTimeout(r, delayMs * attempt));
    }
  }
  return { witness: w.name, ok: false, attempts: 3, error };
}
