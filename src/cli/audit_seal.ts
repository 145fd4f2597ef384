/**
 * The end of every run for the audit log, and the audit settings of `protocol.yaml`: the
 * signing key evolves, a checkpoint is signed over the verified log and sent to the witnesses.
 *
 * @example
 * ```ts
 * import { sealRun } from "./audit_seal.ts";
 * if (!await sealRun("/home/deploy/.protocol", undefined)) Deno.exitCode = 1;
 * ```
 * @module
 */
import { AuditRefusedError, type WitnessSettings, writeCheckpoint } from "../audit/mod.ts";
import type { Config } from "../config/mod.ts";

/**
 * The audit settings of a configuration (origin, witnesses, and the file to resolve paths by).
 *
 * @example
 * ```ts
 * import { writeCheckpoint } from "../audit/mod.ts";
 * import type { Config } from "../config/mod.ts";
 * const dir = "/srv/state";
 * declare const config: Config;
 * await writeCheckpoint(dir, { witness: witnessSettings(config) });
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
 * import type { Config } from "../config/mod.ts";
 * const stateDir = "/srv/state";
 * declare const config: Config;
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
