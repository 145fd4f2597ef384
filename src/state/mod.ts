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
export function ensureStateDir(dir: string): Promise<string> {
  // Synchronous: two local syscalls (every audit append makes them) cost less than two round
  // trips through Deno's blocking thread pool.
  try {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.chmodSync(dir, 0o700);
  } catch (error) {
    return Promise.reject(error);
  }
  return Promise.resolve(dir);
}

/**
 * The login name of the real user id (getpwuid, as `id -un` prints it): never `$USER`,
 * `$LOGNAME` or `$SUDO_USER`, which anyone can set. `uid:<n>` when the uid has no name.
 *
 * @example
 * ```ts
 * operator(); // "deploy"
 * ```
 */
export function operator(): string {
  // Read once: the uid does not change while the process runs, and each lookup reads
  // /etc/passwd (a rollout asks once per node).
  return operatorName ??= (() => {
    try {
      return userInfo().username;
    } catch {
      return `uid:${Deno.uid() ?? "unknown"}`;
    }
  })();
}

let operatorName: string | undefined;

/**
 * The user who ran `sudo`, only when this process really runs as root through sudo (uid 0 and
 * sudo's `SUDO_UID`/`SUDO_USER` agree with the password database); otherwise undefined.
 *
 * @example
 * ```ts
 * sudoUser(); // "alice" under `sudo deno task ...`, else undefined
 * ```
 */
export function sudoUser(): string | undefined {
  if (Deno.uid() !== 0) return undefined;
  const name = Deno.env.get("SUDO_USER");
  const uid = Deno.env.get("SUDO_UID");
  if (!name || !uid || !/^\d+$/.test(uid) || uid === "0") return undefined;
  return passwdName(Number(uid)) === name ? name : undefined;
}

function passwdName(uid: number): string | undefined {
  try {
    for (const line of Deno.readTextFileSync("/etc/passwd").split("\n")) {
      const f = line.split(":");
      if (f.length >= 3 && Number(f[2]) === uid && /^\d+$/.test(f[2])) return f[0];
    }
  } catch {
    // no passwd file: no sudo user can be confirmed
  }
  return undefined;
}

/** The host name recorded in run records and audit entries. */
export function hostName(): string {
  return hostname();
}
