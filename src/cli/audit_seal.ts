/**
 * The end of every command that wrote audit entries (see `audit_sealing.ts`), and the audit
 * settings of `protocol.yaml`: the signing key evolves, a checkpoint is signed over the verified
 * log and sent to the witnesses.
 *
 * @example
 * ```ts
 * import { sealRun } from "./audit_seal.ts";
 * if (!await sealRun("/home/deploy/.protocol", undefined)) Deno.exitCode = 1;
 * ```
 * @module
 */
import { resolve } from "node:path";
import {
  AuditRefusedError,
  hasSigningKey,
  type WitnessSettings,
  writeCheckpoint,
} from "../audit/mod.ts";
import { type Config, findConfig, loadConfig } from "../config/mod.ts";
import { resolveStateDir } from "../state/mod.ts";

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
    const checked = r.since === undefined
      ? "all verified"
      : `${r.size - r.since} verified since the checkpoint of ${r.since}`;
    console.error(
      `  audit checkpoint: ${r.size} entries (${checked}), ${r.path}` +
        (sent.length ? `; published to ${sent.join(", ")}` : ""),
    );
    return true;
  } catch (err) {
    if (!(err instanceof AuditRefusedError)) throw err;
    console.error(`error: audit log: ${err.message}`);
    return false;
  }
}

/**
 * Seals each log a command wrote to. The command's configuration (its `--config`, else the
 * usual lookup) names the witnesses of the command's own state dir; any other log it wrote (a
 * drill's sandbox) is sealed locally and never published as if it were the project's. A log
 * whose directory is gone (a sandbox removed at the end of its drill) is skipped. Returns false
 * when a log could not be sealed.
 *
 * @example
 * ```ts
 * const ok = await sealWrittenLogs(["/home/deploy/.protocol"], { config: "protocol.yaml" });
 * ```
 */
export async function sealWrittenLogs(
  stateDirs: string[],
  options: { config?: string; stateDir?: string },
): Promise<boolean> {
  const home = resolve(resolveStateDir(options));
  let config: Config | undefined;
  if (stateDirs.includes(home)) {
    const path = await findConfig(options);
    try {
      config = path ? await loadConfig(path) : undefined;
    } catch (err) {
      console.error(
        `WARNING: audit checkpoint NOT published: ${(err as Error).message}\n` +
          "  run `deno task audit:checkpoint` once the configuration is fixed",
      );
    }
  }
  let ok = true;
  for (const dir of stateDirs) {
    if (!hasSigningKey(dir)) continue;
    ok = await sealRun(dir, dir === home ? config : undefined) && ok;
  }
  return ok;
}
