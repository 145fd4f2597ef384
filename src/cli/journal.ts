/**
 * Connects runs to the signed audit log: every run, step and runbook action becomes an entry,
 * and every run ends sealed (key evolved, checkpoint signed and sent to the witnesses).
 *
 * @example
 * ```ts
 * import { auditJournal, requireAuditKey, sealRun } from "./journal.ts";
 * await requireAuditKey("/home/deploy/.protocol");
 * const journal = auditJournal("/home/deploy/.protocol");
 * await journal.record({ action: "run", runbook: "deploy", status: "initiated" });
 * const sealed = await sealRun("/home/deploy/.protocol", undefined);
 * ```
 * @module
 */
import {
  appendAudit,
  auditPaths,
  AuditRefusedError,
  hasSigningKey,
  MissingSigningKeyError,
  type WitnessSettings,
  writeCheckpoint,
} from "../audit/mod.ts";
import type { Config } from "../config/mod.ts";
import type { Journal } from "../runbook/run.ts";

/**
 * A journal that appends signed entries to the audit log in `stateDir`.
 *
 * @example
 * ```ts
 * await auditJournal(dir).record({ action: "step", step: "fetch", status: "success" });
 * ```
 */
export function auditJournal(stateDir: string): Journal {
  return {
    async record(fields) {
      await appendAudit(stateDir, { ...fields, action: String(fields.action) });
    },
  };
}

/**
 * Fails before a run starts when nothing could sign its audit entries.
 *
 * @example
 * ```ts
 * await requireAuditKey(dir); // throws MissingSigningKeyError without a key
 * ```
 */
export async function requireAuditKey(stateDir: string): Promise<void> {
  if (!await hasSigningKey(stateDir)) {
    throw new MissingSigningKeyError(auditPaths(stateDir).key);
  }
}

/**
 * The audit settings of a configuration (origin, witnesses, and the file to resolve paths by).
 *
 * @example
 * ```ts
 * writeCheckpoint(dir, { witness: witnessSettings(config) });
 * ```
 */
export function witnessSettings(config: Config | undefined): WitnessSettings {
  return {
    origin: config?.audit?.origin,
    witness: config?.audit?.witness,
    configFile: config?.file,
  };
}

/**
 * Ends a run: evolves the signing key (the old key signs the next one's introduction and the
 * checkpoint, then is destroyed), and publishes the checkpoint to the configured witnesses.
 * Returns false, after saying why on stderr, when the log does not verify (no checkpoint is
 * signed over it); a witness that cannot be reached is reported and recorded but does not turn
 * a successful run into a failed one.
 *
 * @example
 * ```ts
 * if (!await sealRun(stateDir, config)) Deno.exitCode = 1;
 * ```
 */
export async function sealRun(stateDir: string, config: Config | undefined): Promise<boolean> {
  try {
    const r = await writeCheckpoint(stateDir, { rotate: true, witness: witnessSettings(config) });
    const sent = r.published.filter((p) => p.ok).map((p) => p.witness);
    console.error(
      `  audit checkpoint: ${r.size} entries, ${r.path}` +
        (sent.length ? `; published to ${sent.join(", ")}` : ""),
    );
    return true;
  } catch (err) {
    if (!(err instanceof AuditRefusedError)) throw err;
    console.error(`error: audit log: ${err.message}`);
    return false;
  }
}
