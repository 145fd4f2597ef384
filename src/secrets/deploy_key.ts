/**
 * The ed25519 deploy key for git access (`<stateDir>/deploy_key`, no passphrase, so a node can
 * pull unattended); its public half is what to add to the repository as a read-only deploy key.
 *
 * @example
 * ```ts
 * import { generateDeployKey } from "./deploy_key.ts";
 * const { publicKey } = await generateDeployKey("/home/deploy/.protocol", "deploy@node-1");
 * console.log(publicKey); // "ssh-ed25519 AAAA... deploy@node-1"
 * ```
 * @module
 */
import { join } from "node:path";
import { ensureStateDir } from "../state/mod.ts";
import { SecretsInputError, SecretsRefusedError } from "./errors.ts";
import { run } from "./exec.ts";

/** Base name of the deploy key in the state directory (the public key adds `.pub`). */
export const DEPLOY_KEY_FILE = "deploy_key";

/**
 * The `ssh-keygen` argv that creates an ed25519 key at `path` with an empty passphrase.
 *
 * @example
 * ```ts
 * deployKeyArgv("/s/deploy_key", "protocol deploy key");
 * // ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", "/s/deploy_key", "-C", "protocol deploy key"]
 * ```
 */
export function deployKeyArgv(path: string, comment: string): string[] {
  return ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path, "-C", comment];
}

/**
 * The `ssh-keygen` argv that prints a public key's SHA-256 fingerprint.
 *
 * @example
 * ```ts
 * fingerprintArgv("/s/deploy_key.pub"); // ["ssh-keygen", "-l", "-E", "sha256", "-f", "/s/deploy_key.pub"]
 * ```
 */
export function fingerprintArgv(publicKeyPath: string): string[] {
  return ["ssh-keygen", "-l", "-E", "sha256", "-f", publicKeyPath];
}

/** What {@link generateDeployKey} created. */
export interface DeployKey {
  /** The private key file (mode 0600). */
  path: string;
  /** The public key line, to add as a deploy key. */
  publicKey: string;
  /** `SHA256:...`, for the audit log and for comparing with the git host's listing. */
  fingerprint: string;
}

/**
 * Creates the deploy key in the state directory; refuses when either half already exists
 * (replacing it would lock the node out of git until the new key is registered).
 *
 * @example
 * ```ts
 * const stateDir = "/home/deploy/.protocol";
 * const key = await generateDeployKey(stateDir, `protocol deploy key deploy@${Deno.hostname()}`);
 * ```
 */
export async function generateDeployKey(stateDir: string, comment: string): Promise<DeployKey> {
  if (/[\r\n]/.test(comment)) throw new SecretsInputError("the key comment must be one line");
  await ensureStateDir(stateDir);
  const path = join(stateDir, DEPLOY_KEY_FILE);
  for (const file of [path, `${path}.pub`]) {
    if (await Deno.lstat(file).then(() => true, () => false)) {
      throw new SecretsRefusedError(
        `a deploy key already exists at ${file}; refusing to overwrite it ` +
          "(remove it and its deploy-key registration first if you mean to replace it)",
      );
    }
  }
  await run(deployKeyArgv(path, comment));
  await Deno.chmod(path, 0o600);
  const publicKey = (await Deno.readTextFile(`${path}.pub`)).trim();
  const listing = (await run(fingerprintArgv(`${path}.pub`))).stdout;
  const fingerprint = /SHA256:\S+/.exec(listing)?.[0] ?? "";
  return { path, publicKey, fingerprint };
}
