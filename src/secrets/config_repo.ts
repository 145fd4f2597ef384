/**
 * The config repository: a git checkout with one branch per environment, holding only
 * encrypted env files. `switch` changes environment, `init` encrypts plaintext (or decrypts for
 * editing), `save` commits and pushes only encrypted files; `refresh` (pull and decrypt for the
 * app, outside the repository) is `config_refresh.ts`. Each returns what it did, for the audit
 * entry.
 *
 * @example
 * ```ts
 * import { configSave, configSwitch } from "./config_repo.ts";
 * const repo = { path: "/srv/config", remote: "origin", environments: ["production"], env_dir: "/opt/myapp/shared" };
 * await configSwitch(repo, "production");
 * console.log((await configSave(repo)).summary);
 * ```
 * @module
 */
import { join } from "node:path";
import { decryptEnvelope, encryptEnvelope } from "./cipher.ts";
import { AuthenticationError, SecretsInputError, SecretsRefusedError } from "./errors.ts";
import { run, tryRun } from "./exec.ts";
import { ensureGitignore, isEncrypted, isPlaintextEnv, listFiles } from "./env_files.ts";
import { plaintextName, writeFileAtomic } from "./files.ts";
import { git, nulList, porcelainPaths } from "./git_commands.ts";
import type { SecretMasker } from "./masking.ts";
import {
  commitStaged,
  type ConfigOutcome,
  type ConfigRepo,
  currentEnvironment,
  plaintextFiles,
  requireCheckout,
  requireEnvironment,
} from "./config_checkout.ts";

const decoder = new TextDecoder();

/**
 * Checks out the environment's branch: the local one, else the remote's (after a fetch), else
 * — with `create` — a new branch with no history. Refuses while plaintext env files or unsaved
 * changes are in the checkout: they belong to the environment being left.
 *
 * @example
 * ```ts
 * const repo = {
 *   path: "/opt/myapp-config",
 *   remote: "origin",
 *   environments: ["production", "staging"],
 *   env_dir: "/opt/myapp/shared",
 * };
 * await configSwitch(repo, "staging");
 * ```
 */
export async function configSwitch(
  repo: ConfigRepo,
  env: string,
  options: { create?: boolean } = {},
): Promise<ConfigOutcome> {
  requireEnvironment(repo, env);
  const current = await requireCheckout(repo);
  if (current === env) return { env, files: [], summary: `already on ${env}` };
  const plain = await plaintextFiles(repo);
  if (plain.length) {
    throw new SecretsRefusedError(
      `plaintext env files of "${current}" are in the checkout (${plain.join(", ")}); ` +
        "encrypt them with config:init (and config:save) or delete them before switching",
    );
  }
  // Untracked files count too: a new .enc left behind would be saved into the next branch.
  const changes = porcelainPaths((await run(git.allChanges(repo.path))).stdout);
  if (changes.length) {
    throw new SecretsRefusedError(
      `unsaved changes on "${current}" (${changes.join(", ")}); run config:save first`,
    );
  }
  if ((await tryRun(git.hasLocalBranch(repo.path, env))).code === 0) {
    await run(git.switchTo(repo.path, env));
    return { env, files: [], summary: `switched from ${current} to ${env}` };
  }
  await run(git.fetch(repo.path, repo.remote));
  if ((await tryRun(git.hasRemoteBranch(repo.path, repo.remote, env))).code === 0) {
    await run(git.switchTracking(repo.path, repo.remote, env));
    return {
      env,
      files: [],
      summary: `switched from ${current} to ${env} (from ${repo.remote}/${env})`,
    };
  }
  if (!options.create) {
    throw new SecretsInputError(
      `there is no branch "${env}" locally or on ${repo.remote}; use --create to start it ` +
        "empty (environments share nothing)",
    );
  }
  await run(git.switchOrphan(repo.path, env));
  return { env, files: [], summary: `created the empty environment branch ${env}` };
}

/**
 * Encrypts every plaintext env file of the checkout to `FILE.enc`, proves each decrypts back,
 * deletes the plaintext and makes sure `.gitignore` covers plaintext. A file whose `.enc`
 * already decrypts to the same bytes keeps its `.enc` (no spurious change to commit).
 * With `decrypt`, does the reverse for editing or key rotation: writes each `FILE.enc`'s
 * plaintext next to it (0600, gitignored), refusing to overwrite a plaintext that differs.
 *
 * @example
 * ```ts
 * import { readKey } from "./key_file.ts";
 * const key = await readKey("/home/deploy/.protocol");
 * const repo = {
 *   path: "/opt/myapp-config",
 *   remote: "origin",
 *   environments: ["production", "staging"],
 *   env_dir: "/opt/myapp/shared",
 * };
 * const { files } = await configInit(repo, key); // [".env.enc"]
 * ```
 */
export async function configInit(
  repo: ConfigRepo,
  key: Uint8Array,
  options: { decrypt?: boolean; masker?: SecretMasker } = {},
): Promise<ConfigOutcome> {
  const env = await requireCheckout(repo);
  const gitignoreChanged = await ensureGitignore(repo.path);
  const note = gitignoreChanged ? "; .gitignore now covers plaintext" : "";
  if (options.decrypt) return await decryptAll(repo, env, key, options.masker, note);
  const plain = await plaintextFiles(repo);
  const files: string[] = [];
  let unchanged = 0;
  for (const name of plain) {
    const path = join(repo.path, name);
    const plaintext = await Deno.readFile(path);
    options.masker?.addEnv(decoder.decode(plaintext));
    const encPath = `${path}.enc`;
    if (await decryptsTo(key, encPath, plaintext)) {
      unchanged++;
    } else {
      const envelope = await encryptEnvelope(key, plaintext);
      const back = await decryptEnvelope(key, envelope, `${name}.enc`);
      if (!sameBytes(back, plaintext)) throw new Error(`${name}: encryption did not round-trip`);
      await writeFileAtomic(encPath, envelope, 0o644);
    }
    await Deno.remove(path);
    files.push(`${name}.enc`);
  }
  const summary = plain.length
    ? `encrypted ${files.join(", ")} and deleted the plaintext` +
      (unchanged ? ` (${unchanged} unchanged)` : "") + note
    : `no plaintext env files to encrypt${note}`;
  return { env, files, summary };
}

async function decryptAll(
  repo: ConfigRepo,
  env: string,
  key: Uint8Array,
  masker: SecretMasker | undefined,
  note: string,
): Promise<ConfigOutcome> {
  const encrypted = (await listFiles(repo.path)).filter(isEncrypted);
  const plain = new Map<string, Uint8Array>();
  for (const name of encrypted) { // all of them first: a bad file leaves nothing half-done
    const bytes = await decryptEnvelope(key, await Deno.readTextFile(join(repo.path, name)), name);
    const target = plaintextName(name);
    const existing = await Deno.readFile(join(repo.path, target)).catch(() => undefined);
    if (existing && !sameBytes(existing, bytes)) {
      throw new SecretsRefusedError(
        `${target} exists and differs from ${name}; encrypt it (config:init) or delete it first`,
      );
    }
    plain.set(target, bytes);
  }
  for (const [target, bytes] of plain) {
    await writeFileAtomic(join(repo.path, target), bytes, 0o600);
    masker?.addEnv(decoder.decode(bytes));
  }
  const files = [...plain.keys()];
  const summary = files.length
    ? `decrypted ${
      files.join(", ")
    } for editing (gitignored; config:init encrypts them again)${note}`
    : `no encrypted files to decrypt${note}`;
  return { env, files, summary };
}

/**
 * Commits and pushes the encrypted files and `.gitignore` of the current environment branch.
 * Refuses when a plaintext env file is staged or tracked, when anything else is staged, and
 * when plaintext is waiting to be encrypted (run `configInit` first).
 *
 * @example
 * ```ts
 * const repo = {
 *   path: "/opt/myapp-config",
 *   remote: "origin",
 *   environments: ["production", "staging"],
 *   env_dir: "/opt/myapp/shared",
 * };
 * const { files } = await configSave(repo); // committed and pushed
 * ```
 */
export async function configSave(
  repo: ConfigRepo,
  options: { message?: string } = {},
): Promise<ConfigOutcome> {
  const env = await currentEnvironment(repo);
  const staged = nulList((await run(git.staged(repo.path))).stdout);
  const tracked = nulList((await run(git.tracked(repo.path))).stdout);
  const plainStaged = staged.filter(isPlaintextEnv);
  const plainTracked = tracked.filter(isPlaintextEnv);
  if (plainStaged.length || plainTracked.length) {
    throw new SecretsRefusedError(
      `plaintext env files are ${plainStaged.length ? "staged" : "tracked"} in the config ` +
        `repository (${[...new Set([...plainStaged, ...plainTracked])].join(", ")}); ` +
        "unstage them with `git rm --cached FILE`, and rotate any secret that was pushed",
    );
  }
  const other = staged.filter((name) => !isEncrypted(name) && name !== ".gitignore");
  if (other.length) {
    throw new SecretsRefusedError(
      `config:save commits only encrypted files and .gitignore; unstage ${other.join(", ")}`,
    );
  }
  const plain = await plaintextFiles(repo);
  if (plain.length) {
    throw new SecretsRefusedError(
      `plaintext env files are not encrypted yet (${plain.join(", ")}); run config:init first`,
    );
  }
  const changed = porcelainPaths((await run(git.allChanges(repo.path))).stdout)
    .filter((name) => isEncrypted(name) || name === ".gitignore");
  if (changed.length) await run(git.add(repo.path, changed));
  const toCommit = nulList((await run(git.staged(repo.path))).stdout);
  if (toCommit.length) {
    await commitStaged(
      repo.path,
      options.message ?? `config(${env}): update ${toCommit.join(", ")}`,
    );
  }
  await run(git.push(repo.path, repo.remote, env));
  const summary = toCommit.length
    ? `committed ${toCommit.join(", ")} on ${env} and pushed to ${repo.remote}`
    : `nothing new to commit on ${env}; pushed to ${repo.remote}`;
  return { env, files: toCommit, summary };
}

async function decryptsTo(key: Uint8Array, encPath: string, plaintext: Uint8Array) {
  try {
    const existing = await decryptEnvelope(key, await Deno.readTextFile(encPath), encPath);
    return sameBytes(existing, plaintext);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof AuthenticationError) return false;
    if (error instanceof SecretsInputError) return false; // damaged: replace it
    throw error;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
