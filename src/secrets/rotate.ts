/**
 * Key rotation across every environment (SOP 7), all or nothing: each environment branch is
 * decrypted with the old key, re-encrypted with a new one and proven to decrypt with it, and
 * committed locally; only when every branch succeeded are they pushed, in one atomic push,
 * and only then does the new key replace the old one (kept as `key.old-<time>`). If any
 * branch fails, or the push does, every branch is reset to where it was, nothing is pushed,
 * and the old key stays in force.
 *
 * The new key is written to `key.next` (0600) before the push, so a crash between the push
 * and the key switch cannot lose the key the repository is now encrypted with.
 *
 * @example
 * ```ts
 * import { rotateKey } from "./rotate.ts";
 * // const outcome = await rotateKey(repo, stateDir, { masker });
 * // console.log(outcome.summary);
 * ```
 * @module
 */
import { join } from "node:path";
import { decryptEnvelope, encryptEnvelope } from "./cipher.ts";
import { SecretsRefusedError } from "./errors.ts";
import { isEncrypted } from "./env_files.ts";
import { run, tryRun } from "./exec.ts";
import { writeFileAtomic } from "./files.ts";
import { git, nulList, porcelainPaths } from "./git_commands.ts";
import { generateKeyHex, keyFromHex, keyPath, readKeyHex, storeKey } from "./key_file.ts";
import { commitStaged, type ConfigRepo, plaintextFiles } from "./config_checkout.ts";
import type { SecretMasker } from "./masking.ts";

/** What a rotation did. */
export interface RotationOutcome {
  /** Environments re-encrypted and pushed, with their files. */
  environments: Record<string, string[]>;
  /** Environments with no branch locally or on the remote (nothing to re-encrypt). */
  missing: string[];
  /** Where the old key is kept. */
  previous?: string;
  summary: string;
}

/** What can be tuned; `beforeCommit` exists so tests can make one branch fail halfway. */
export interface RotationOptions {
  masker?: SecretMasker;
  /** The new key (64 hex); generated when absent. */
  newKeyHex?: string;
  /** Called for each environment after its files are re-encrypted, before its commit. */
  beforeCommit?: (env: string) => Promise<void> | void;
  /** Reports progress, one line per environment. */
  onProgress?: (line: string) => void;
}

const decoder = new TextDecoder();
const nextKeyPath = (stateDir: string) => `${keyPath(stateDir)}.next`;

/**
 * Rotates the encryption key over every environment branch of the config repository.
 *
 * @example
 * ```ts
 * import { rotateKey } from "./rotate.ts";
 * // await rotateKey({ path, remote: "origin", environments: ["production"], env_dir }, dir);
 * ```
 */
export async function rotateKey(
  repo: ConfigRepo,
  stateDir: string,
  options: RotationOptions = {},
): Promise<RotationOutcome> {
  const start = await cleanCheckout(repo);
  const oldHex = await readKeyHex(stateDir);
  const newHex = options.newKeyHex ?? generateKeyHex();
  options.masker?.add(oldHex, newHex);
  const oldKey = keyFromHex(oldHex);
  const newKey = keyFromHex(newHex);

  await run(git.fetch(repo.path, repo.remote));
  const original = new Map<string, string>();
  const missing: string[] = [];
  for (const env of repo.environments) {
    if ((await tryRun(git.hasLocalBranch(repo.path, env))).code !== 0) {
      if ((await tryRun(git.hasRemoteBranch(repo.path, repo.remote, env))).code !== 0) {
        missing.push(env);
        continue;
      }
      await run(git.branchFrom(repo.path, env, `${repo.remote}/${env}`));
    }
    original.set(env, (await run(git.revParse(repo.path, `refs/heads/${env}`))).stdout.trim());
  }
  if (original.size === 0) {
    throw new SecretsRefusedError(
      `no environment branch (${repo.environments.join(", ")}) exists in ${repo.path} or on ` +
        `${repo.remote}: nothing is encrypted with the key yet`,
    );
  }

  const environments: Record<string, string[]> = {};
  try {
    for (const env of original.keys()) {
      await run(git.switchTo(repo.path, env));
      environments[env] = await reencryptBranch(repo, env, oldKey, newKey, options);
      await options.beforeCommit?.(env);
      await commitAll(repo, env, environments[env]);
      options.onProgress?.(`${env}: re-encrypted ${environments[env].length} file(s)`);
    }
    await Deno.writeTextFile(nextKeyPath(stateDir), newHex, { mode: 0o600 });
    await run(git.pushAtomic(repo.path, repo.remote, [...original.keys()]));
  } catch (error) {
    await restore(repo, original, start);
    await Deno.remove(nextKeyPath(stateDir)).catch(() => {});
    throw new SecretsRefusedError(
      `key rotation stopped, nothing was pushed and the old key stays in force: ${
        (error as Error).message
      }`,
    );
  }
  const stored = await storeKey(stateDir, newHex, { rotate: true });
  await Deno.remove(nextKeyPath(stateDir)).catch(() => {});
  await run(git.switchTo(repo.path, start));
  const names = Object.keys(environments);
  return {
    environments,
    missing,
    previous: stored.previous,
    summary: `re-encrypted ${names.join(", ")} with the new key, proved each decrypts, pushed ` +
      `them in one atomic push and installed the new key (old key kept at ${stored.previous})` +
      (missing.length ? `; no branch yet for ${missing.join(", ")}` : ""),
  };
}

/** The checkout's branch, refusing plaintext or unsaved changes that a switch would carry. */
async function cleanCheckout(repo: ConfigRepo): Promise<string> {
  const branch = (await run(git.currentBranch(repo.path))).stdout.trim();
  const plain = await plaintextFiles(repo);
  const changes = porcelainPaths((await run(git.allChanges(repo.path))).stdout);
  if (plain.length || changes.length) {
    throw new SecretsRefusedError(
      `the config checkout has ${plain.length ? "plaintext env files" : "unsaved changes"} (${
        [...plain, ...changes].join(", ")
      }); encrypt and save them (config:init, config:save) before rotating the key`,
    );
  }
  return branch;
}

async function reencryptBranch(
  repo: ConfigRepo,
  env: string,
  oldKey: Uint8Array,
  newKey: Uint8Array,
  options: RotationOptions,
): Promise<string[]> {
  const files = nulList((await run(git.tracked(repo.path))).stdout).filter(isEncrypted);
  for (const name of files) {
    const path = join(repo.path, name);
    const plaintext = await decryptEnvelope(
      oldKey,
      await Deno.readTextFile(path),
      `${env}:${name}`,
    );
    options.masker?.addEnv(decoder.decode(plaintext));
    const envelope = await encryptEnvelope(newKey, plaintext);
    const back = await decryptEnvelope(newKey, envelope, `${env}:${name}`);
    if (back.length !== plaintext.length || back.some((byte, i) => byte !== plaintext[i])) {
      throw new Error(`${env}:${name} does not decrypt back with the new key`);
    }
    await writeFileAtomic(path, envelope, 0o644);
  }
  return files;
}

async function commitAll(repo: ConfigRepo, env: string, files: string[]): Promise<void> {
  if (files.length === 0) return;
  await run(git.add(repo.path, files));
  await commitStaged(repo.path, `config(${env}): re-encrypt with the rotated key`);
}

async function restore(repo: ConfigRepo, original: Map<string, string>, start: string) {
  for (const [env, commit] of original) {
    await tryRun(git.forceSwitch(repo.path, env));
    await tryRun(git.resetHard(repo.path, commit));
  }
  await tryRun(git.forceSwitch(repo.path, start));
}
