/**
 * Putting the encryption key on a node (`secrets:key --scp`, `secrets: setup` on a node): the
 * key travels on the SSH connection's standard input — never on a command line — into the
 * node's state directory as `key`, mode 0600, directory 0700, replaced atomically. The original
 * tool's `scp` left both at the umask's mercy.
 *
 * @example
 * ```ts
 * import { installKey } from "./distribute.ts";
 * // const summary = await installKey(target, hex, "/home/deploy/.protocol", { replace: true });
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { putFile } from "../targets/files.ts";
import type { Target } from "../targets/target.ts";
import { SecretsRefusedError } from "./errors.ts";
import { keyPath } from "./key_file.ts";

/** How a key is installed. */
export interface InstallKeyOptions {
  /** Replace a different key already there (after a rotation); otherwise refuse. */
  replace?: boolean;
  signal?: AbortSignal;
}

/**
 * Installs `hex` as the key in `stateDir` on the target; returns one sentence saying what it
 * did. Compares by SHA-256 on the node, so the key there is never read back.
 *
 * @example
 * ```ts
 * import { installKey } from "./distribute.ts";
 * import { LocalTarget } from "../targets/local.ts";
 * console.log(await installKey(new LocalTarget(), "ab".repeat(32), "/tmp/state"));
 * ```
 */
export async function installKey(
  target: Target,
  hex: string,
  stateDir: string,
  options: InstallKeyOptions = {},
): Promise<string> {
  const path = keyPath(stateDir);
  const present = await target.exec({
    script: 'sha256sum -- "$KEY" 2>/dev/null | cut -d" " -f1',
    env: { KEY: path },
    signal: options.signal,
    timeoutMs: 30_000,
  });
  const theirs = present.stdout.trim();
  const ours = createHash("sha256").update(hex).digest("hex");
  if (theirs && theirs !== ours && !options.replace) {
    throw new SecretsRefusedError(
      `${target.name}: a different encryption key is at ${path}; refusing to replace it ` +
        "(files encrypted with it would become unreadable). After a rotation use `key --scp`.",
    );
  }
  const bytes = new TextEncoder().encode(hex);
  await putFile(target, path, bytes, { mode: 0o600, dirMode: 0o700, signal: options.signal });
  const what = theirs === ours
    ? "the key there is already this key; modes set"
    : theirs
    ? "replaced the encryption key"
    : "installed the encryption key";
  return `${target.name}: ${what} at ${path} (mode 0600, directory 0700)`;
}
