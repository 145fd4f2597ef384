/**
 * The config repository's checkout as every config command finds it: which environment it is
 * on (and that it is one), its plaintext env files, and committing as the operator.
 *
 * @example
 * ```ts
 * import { currentEnvironment } from "./config_checkout.ts";
 * const repo = { path: "/srv/config", remote: "origin", environments: ["production"], env_dir: "/opt/myapp/shared" };
 * console.log(await currentEnvironment(repo)); // "production"
 * ```
 * @module
 */
import { hostName, operator } from "../state/mod.ts";
import { SecretsInputError, SecretsRefusedError } from "./errors.ts";
import { run, tryRun } from "./exec.ts";
import { isPlaintextEnv, listFiles } from "./env_files.ts";
import { git } from "./git_commands.ts";

/** Where the config repository is and where the app reads its env files. */
export interface ConfigRepo {
  /** The git checkout. */
  path: string;
  /** The remote pushed to and pulled from. */
  remote: string;
  /** Environment names, which are branch names. */
  environments: string[];
  /** Where `refresh` writes decrypted files; must be outside the checkout. */
  env_dir: string;
}

/** What a config operation did: the environment (branch) and the files it touched. */
export interface ConfigOutcome {
  env: string;
  /** Paths relative to the checkout (for `refresh`: to `env_dir`). */
  files: string[];
  /** One human sentence about what happened. */
  summary: string;
}

/**
 * The branch the checkout is on; refuses (input error) when `repo.path` is not a git checkout.
 *
 * @example
 * ```ts
 * import { requireCheckout } from "./config_checkout.ts";
 * const repo = { path: "/srv/config", remote: "origin", environments: ["production", "staging"], env_dir: "/opt/myapp/shared" };
 * console.log(await requireCheckout(repo)); // "staging"
 * ```
 */
export async function requireCheckout(repo: ConfigRepo): Promise<string> {
  const result = await tryRun(git.isWorkTree(repo.path));
  if (result.code !== 0 || result.stdout.trim() !== "true") {
    throw new SecretsInputError(
      `the config repository ${repo.path} is not a git checkout; clone it there first`,
    );
  }
  return (await run(git.currentBranch(repo.path))).stdout.trim();
}

/**
 * Refuses (input error) an environment the configuration does not name.
 *
 * @example
 * ```ts
 * import { requireEnvironment } from "./config_checkout.ts";
 * const repo = { path: "/srv/config", remote: "origin", environments: ["production", "staging"], env_dir: "/opt/myapp/shared" };
 * requireEnvironment(repo, "staging"); // passes; "qa" would throw
 * ```
 */
export function requireEnvironment(repo: ConfigRepo, env: string): void {
  if (!repo.environments.includes(env)) {
    throw new SecretsInputError(
      `unknown environment "${env}"; the configured ones are: ${repo.environments.join(", ")}`,
    );
  }
}

/**
 * The environment checked out; refuses when the checkout is on a branch that is not one.
 *
 * @example
 * ```ts
 * import { currentEnvironment } from "./config_checkout.ts";
 * const repo = { path: "/srv/config", remote: "origin", environments: ["production", "staging"], env_dir: "/opt/myapp/shared" };
 * console.log(await currentEnvironment(repo)); // "production"
 * ```
 */
export async function currentEnvironment(repo: ConfigRepo): Promise<string> {
  const branch = await requireCheckout(repo);
  if (!repo.environments.includes(branch)) {
    throw new SecretsRefusedError(
      `the config checkout is on branch "${branch}", which is not an environment ` +
        `(${repo.environments.join(", ")}); run config:switch ENV first`,
    );
  }
  return branch;
}

/**
 * The plaintext env files waiting in the checkout (relative paths).
 *
 * @example
 * ```ts
 * import { plaintextFiles } from "./config_checkout.ts";
 * console.log(await plaintextFiles({ path: "/srv/config" })); // [".env"]
 * ```
 */
export async function plaintextFiles(repo: Pick<ConfigRepo, "path">): Promise<string[]> {
  return (await listFiles(repo.path)).filter(isPlaintextEnv);
}

/**
 * Commits what is staged, as the operator when git has no identity configured (a fresh node
 * or CI): the commit must happen, and it says who made it.
 *
 * @example
 * ```ts
 * import { commitStaged } from "./config_checkout.ts";
 * await commitStaged("/srv/config", "config: rotate the database password");
 * ```
 */
export async function commitStaged(repoPath: string, message: string): Promise<void> {
  const hasIdentity = (await tryRun(git.userEmail(repoPath))).code === 0;
  const identity = hasIdentity
    ? undefined
    : { name: operator(), email: `${operator()}@${hostName()}` };
  await run(git.commit(repoPath, message, identity));
}
