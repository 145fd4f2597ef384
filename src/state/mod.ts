/**
 * The state directory and the identity of the person running the tool.
 *
 * The state directory (`~/.protocol/` by default) holds the encryption key, the audit signing
 * key, the audit log and run records. Its paths and modes are what the SOC 2 policy checks, so
 * every module finds them here rather than building paths of its own.
 *
 * @example
 * ```ts
 * import { resolveStateDir, operator } from "./mod.ts";
 * const dir = resolveStateDir({});
 * console.log(dir, operator());
 * ```
 * @module
 */
import { homedir, hostname, userInfo } from "node:os";
import { join } from "node:path";

/** Where the state directory lives: `--state-dir`, then `$PROTOCOL_STATE_DIR`, then `~/.protocol`. */
export function resolveStateDir(options: { stateDir?: string }): string {
  return options.stateDir ?? Deno.env.get("PROTOCOL_STATE_DIR") ?? join(homedir(), ".protocol");
}

/** Creates the state directory (and its parents) with mode 0700, and tightens it if it exists. */
export async function ensureStateDir(dir: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await Deno.chmod(dir, 0o700);
  return dir;
}

/**
 * The person who ran the tool: `$SUDO_USER` when run through sudo, else the login user.
 * The seed's tool recorded the file owner; an auditor needs the human.
 */
export function operator(): string {
  return Deno.env.get("SUDO_USER") || Deno.env.get("USER") || Deno.env.get("LOGNAME") ||
    userInfo().username;
}

/** The host name recorded in run records and audit entries. */
export function hostName(): string {
  return hostname();
}
