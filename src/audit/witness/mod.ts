/**
 * The witnesses named in `protocol.yaml` (`audit.witness`), as one list the checkpoint writer
 * publishes to and the verifier reads from.
 *
 * @example
 * ```ts
 * import { witnessesFrom, fetchWitnessCheckpoints } from "./mod.ts";
 * const ws = witnessesFrom({ http: "http://127.0.0.1:8700", branch: "audit-checkpoints" }, "/srv/state");
 * const cps = await fetchWitnessCheckpoints(ws, "example.org/protocol-audit");
 * ```
 * @module
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import { homedir } from "node:os";
import type { WitnessConfig } from "./config.ts";
import { hostName } from "../../state/mod.ts";
import { type Checkpoint, parseCheckpoint } from "../checkpoint_core.ts";
import { AuditInputError } from "../errors.ts";
import { GitWitness, WitnessError } from "./git.ts";
import { HttpWitness } from "./http.ts";

export { WitnessError } from "./git.ts";

/** What the checkpoint writer and the verifier need from a witness. */
export interface Witness {
  name: string;
  checkpoints(origin: string): Promise<string[]>;
  publish(text: string, size: number, proofFrom: (oldSize: number) => Uint8Array[]): Promise<void>;
}

/** The audit settings a checkpoint or a verification takes from the configuration. */
export interface WitnessSettings {
  origin?: string;
  witness?: WitnessConfig;
  /** The configuration file, to resolve relative key paths against. */
  configFile?: string;
}

/**
 * The checkpoint origin: configured, else `<hostname>/protocol-audit`.
 *
 * @example
 * ```ts
 * checkpointOrigin({}); // "web-1/protocol-audit"
 * ```
 */
export function checkpointOrigin(s: WitnessSettings): string {
  return s.origin ?? `${hostName().replace(/[^\x21-\x2a\x2c-\x7e]/g, "_")}/protocol-audit`;
}

/**
 * The configured witnesses (none when `audit.witness` is absent).
 *
 * @example
 * ```ts
 * witnessesFrom({ git: "ssh://h/w.git", branch: "audit-checkpoints" }, "/srv/state").length; // 1
 * ```
 */
export function witnessesFrom(
  cfg: WitnessConfig | undefined,
  stateDir: string,
  configFile?: string,
): Witness[] {
  if (!cfg) return [];
  const base = configFile ? dirname(configFile) : Deno.cwd();
  const path = (p?: string) =>
    p === undefined
      ? undefined
      : p.startsWith("~/")
      ? join(homedir(), p.slice(2))
      : isAbsolute(p)
      ? p
      : resolve(base, p);
  const out: Witness[] = [];
  if (cfg.git) {
    const git = new GitWitness(
      {
        url: cfg.git,
        branch: cfg.branch,
        identity: path(cfg.identity),
        knownHosts: path(cfg.known_hosts),
      },
      join(stateDir, "witness-git"),
    );
    out.push({
      name: git.name,
      checkpoints: () => git.checkpoints(),
      publish: (text, size) => git.publish(text, `checkpoint ${size}`),
    });
  }
  if (cfg.http) {
    const http = new HttpWitness(cfg.http);
    out.push({
      name: http.name,
      checkpoints: (origin) => http.checkpoints(origin),
      publish: (text, size, proofFrom) => http.publish(text, size, proofFrom),
    });
  }
  return out;
}

/**
 * Every checkpoint every witness holds for `origin`. A witness that cannot be read, or that
 * holds something that is not a checkpoint, is bad input (`AuditInputError`): verification
 * cannot claim to have checked it.
 *
 * @example
 * ```ts
 * import type { Witness } from "./mod.ts";
 * declare const ws: Witness[];
 * const cps = await fetchWitnessCheckpoints(ws, "example.org/protocol-audit");
 * ```
 */
export async function fetchWitnessCheckpoints(
  witnesses: Witness[],
  origin: string,
): Promise<Checkpoint[]> {
  const out: Checkpoint[] = [];
  for (const w of witnesses) {
    let texts: string[];
    try {
      texts = await w.checkpoints(origin);
    } catch (err) {
      if (!(err instanceof WitnessError || err instanceof SyntaxError)) throw err;
      throw new AuditInputError(`cannot read the witness ${w.name}: ${err.message}`);
    }
    texts.forEach((t, i) => {
      const cp = parseCheckpoint(t, `checkpoint ${i + 1} of witness ${w.name}`);
      if (cp.origin === origin) out.push(cp);
    });
  }
  return out;
}
