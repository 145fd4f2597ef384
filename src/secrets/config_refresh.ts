/**
 * `config:refresh`: pull the current environment's branch and decrypt its `*.enc` files —
 * into `env_dir` on this machine ({@link configRefresh}) or in memory for a caller that writes
 * them to a node ({@link decryptForRefresh}).
 *
 * @example
 * ```ts
 * import { readKey } from "./key_file.ts";
 * import { configRefresh } from "./config_refresh.ts";
 * const key = await readKey("/home/deploy/.protocol");
 * const repo = { path: "/srv/config", remote: "origin", environments: ["production"], env_dir: "/opt/myapp/shared" };
 * console.log((await configRefresh(repo, key)).summary);
 * ```
 * @module
 */
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { decryptEnvelope } from "./cipher.ts";
import { SecretsRefusedError } from "./errors.ts";
import { run } from "./exec.ts";
import { isEncrypted } from "./env_files.ts";
import { plaintextName, writeFileAtomic } from "./files.ts";
import { git, nulList } from "./git_commands.ts";
import type { SecretMasker } from "./masking.ts";
import {
  type ConfigOutcome,
  type ConfigRepo,
  currentEnvironment,
  requireEnvironment,
} from "./config_checkout.ts";

const decoder = new TextDecoder();

/**
 * Pulls the current environment branch (fast-forward only), then decrypts every tracked
 * `*.enc` file into `env_dir` (mode 0600), keeping relative paths: `.env.enc` becomes
 * `<env_dir>/.env`. Every file is decrypted before any is written, and `env_dir` must be
 * outside the checkout. `env`, when given, must be the checked-out environment.
 *
 * @example
 * ```ts
 * import { SecretMasker } from "./masking.ts";
 * import { configRefresh } from "./config_refresh.ts";
 * import { readKey } from "./key_file.ts";
 * const key = await readKey("/home/deploy/.protocol");
 * const repo = {
 *   path: "/opt/myapp-config",
 *   remote: "origin",
 *   environments: ["production", "staging"],
 *   env_dir: "/opt/myapp/shared",
 * };
 * const masker = new SecretMasker();
 * await configRefresh(repo, key, { masker }); // masker now knows every value
 * ```
 */
export async function configRefresh(
  repo: ConfigRepo,
  key: Uint8Array,
  options: RefreshOptions = {},
): Promise<ConfigOutcome> {
  await requireOutside(repo.env_dir, repo.path);
  const { env, plain } = await decryptForRefresh(repo, key, options);
  await Deno.mkdir(repo.env_dir, { recursive: true, mode: 0o700 });
  for (const [target, bytes] of plain) {
    const path = join(repo.env_dir, target);
    await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFileAtomic(path, bytes, 0o600);
  }
  const files = [...plain.keys()];
  const summary = files.length
    ? `decrypted ${files.join(", ")} of ${env} into ${repo.env_dir} (mode 0600)`
    : `no encrypted files on ${env}`;
  return { env, files, summary };
}

/** Options of {@link configRefresh} and {@link decryptForRefresh}. */
export interface RefreshOptions {
  /** The environment the caller expects to be checked out. */
  env?: string;
  /** Pull before decrypting (default true). */
  pull?: boolean;
  masker?: SecretMasker;
}

/**
 * The pull-and-decrypt half of a refresh: every tracked `*.enc` of the current environment,
 * decrypted in memory (plaintext path → bytes), for a caller that writes them elsewhere — a
 * node, over its connection. Every value is added to the masker.
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
 * import { decryptForRefresh } from "./config_refresh.ts";
 * const { env, plain } = await decryptForRefresh(repo, key);
 * for (const [name, bytes] of plain) console.log(env, name, bytes.length);
 * ```
 */
export async function decryptForRefresh(
  repo: ConfigRepo,
  key: Uint8Array,
  options: RefreshOptions = {},
): Promise<{ env: string; plain: Map<string, Uint8Array> }> {
  const env = await currentEnvironment(repo);
  if (options.env !== undefined && options.env !== env) {
    requireEnvironment(repo, options.env);
    throw new SecretsRefusedError(
      `the config checkout is on "${env}", not "${options.env}"; run config:switch ${options.env}`,
    );
  }
  if (options.pull !== false) await run(git.pull(repo.path, repo.remote, env));
  const tracked = nulList((await run(git.tracked(repo.path))).stdout).filter(isEncrypted);
  const plain = new Map<string, Uint8Array>();
  for (const name of tracked) {
    const text = await Deno.readTextFile(join(repo.path, name));
    const bytes = await decryptEnvelope(key, text, name);
    options.masker?.addEnv(decoder.decode(bytes));
    plain.set(plaintextName(name), bytes);
  }
  return { env, plain };
}

async function requireOutside(target: string, repoPath: string): Promise<void> {
  const real = async (p: string): Promise<string> => {
    try {
      return await Deno.realPath(p);
    } catch {
      const parent = dirname(p);
      return parent === p ? p : join(await real(parent), relative(parent, p));
    }
  };
  const rel = relative(await real(resolve(repoPath)), await real(resolve(target)));
  if (rel === "" || (!rel.startsWith("..") && !isAbsolute(rel))) {
    throw new SecretsRefusedError(
      `config_repo.env_dir (${target}) is inside the config repository; decrypted secrets ` +
        "must never be written there. Point env_dir at the app (e.g. <app.dir>/shared).",
    );
  }
}
