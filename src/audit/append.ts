/**
 * `appendAudit`: the one call the rest of the tool makes to record something.
 *
 * Group commit: appends that arrive while this process is writing to the same log wait for that
 * write to end, then go together — one lock, one tail read, each entry chained and signed in
 * order, one write, one fdatasync — and each caller's promise settles only after that fdatasync.
 * So an entry is on disk before its caller hears it was appended, as with one write per entry,
 * while a fleet whose nodes finish steps at the same moment pays one fdatasync per batch.
 *
 * @example
 * ```ts
 * const stateDir = "/srv/state";
 * import { appendAudit } from "./append.ts";
 * await appendAudit(stateDir, { action: "deploy", repo: "/opt/app", from: "v1", to: "v2", status: "success" });
 * ```
 * @module
 */
import { resolve } from "node:path";
import { type AuditEntry, type AuditFields, validateFields } from "./entry.ts";
import { AuditInputError } from "./errors.ts";
import { requireSigningKey } from "./signing.ts";
import { signerForAppend } from "./tail.ts";
import { openLogForAppend, withAuditLock } from "./writer.ts";
import { noteAuditWrite } from "./written.ts";

/**
 * Entries written together at most: bounds one write (entries are a few hundred bytes, at most
 * 64 KiB) while a 100-node fleet's simultaneous steps still go in one or two batches.
 */
const MAX_BATCH = 256;

/** An append waiting for its batch, and how to tell its caller the outcome. */
interface Waiting {
  fields: AuditFields;
  done(entry: AuditEntry): void;
  failed(error: unknown): void;
}

/** Per log (its state dir, resolved): appends waiting for the next batch. */
const waiting = new Map<string, Waiting[]>();

/**
 * Appends one signed entry and returns it once it is on disk (fdatasync). Fills seq, ts, host,
 * user (unless given), prev, kid and sig; drops undefined fields; status defaults to "success".
 * Safe across processes: appends are serialized by an exclusive lock and each batch re-reads
 * the tail. Appends made while an earlier one is being written go together in the next batch
 * (in the order they were made); every entry still has its own seq, prev and signature. A
 * signing key in use for more than 24 h is evolved first (forward security).
 *
 * @example
 * ```ts
 * const e = await appendAudit("/home/deploy/.protocol", { action: "rollback", repo: "/opt/app", to: "v1.1.0" });
 * console.log(e.seq, e.sig);
 * ```
 */
export function appendAudit(stateDir: string, fields: AuditFields): Promise<AuditEntry> {
  try {
    validateFields(fields); // bad fields are the caller's bug: fail before touching anything
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise((done, failed) => {
    const key = resolve(stateDir);
    const queue = waiting.get(key);
    if (queue) queue.push({ fields, done, failed });
    else {
      // No batch being written: this append starts one now; later ones queue behind it.
      const started: Waiting[] = [{ fields, done, failed }];
      waiting.set(key, started);
      void writeBatches(stateDir, key, started);
    }
  });
}

/**
 * Writes `queue` a batch at a time until it is empty: what arrives while a batch is written
 * joins the next one. The queue leaves the map only when empty, so one writer per log at once.
 */
async function writeBatches(stateDir: string, key: string, queue: Waiting[]): Promise<void> {
  // Appends made in the same turn of the event loop (a Promise.all) go in the first batch.
  await Promise.resolve();
  while (queue.length) {
    const batch = queue.splice(0, MAX_BATCH);
    try {
      const entries = await appendBatch(stateDir, batch.map((w) => w.fields));
      batch.forEach((w, i) => w.done(entries[i]));
    } catch (error) {
      // One caller's entry refused while the batch was built (a line over 64 KiB shows only once
      // signed), before anything was written: the others must not fail for it, so each goes alone.
      if (error instanceof AuditInputError && batch.length > 1) {
        await writeOneByOne(stateDir, batch);
      } // Nothing of this batch is acknowledged: an fdatasync that failed proves nothing durable.
      else for (const w of batch) w.failed(error);
    }
  }
  waiting.delete(key);
}

/** Writes each of `batch` as a batch of its own, each caller answered with its own outcome. */
async function writeOneByOne(stateDir: string, batch: Waiting[]): Promise<void> {
  for (const w of batch) {
    try {
      w.done((await appendBatch(stateDir, [w.fields]))[0]);
    } catch (error) {
      w.failed(error);
    }
  }
}

async function appendBatch(stateDir: string, fields: AuditFields[]): Promise<AuditEntry[]> {
  requireSigningKey(stateDir); // MissingSigningKeyError before taking the lock
  return await withAuditLock(stateDir, async () => {
    const log = await openLogForAppend(stateDir);
    try {
      const signer = await signerForAppend(stateDir, log, { evolve: true });
      const entries = await log.append(fields, signer);
      noteAuditWrite(stateDir); // sealed at the end of the command (cli/audit_sealing.ts)
      return entries;
    } finally {
      log.close();
    }
  });
}
