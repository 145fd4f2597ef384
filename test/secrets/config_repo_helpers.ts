/**
 * A config repository world for tests: a bare "remote" and checkouts cloned from it, in a temp
 * directory, with an encryption key.
 *
 * @example
 * ```ts
 * const w = await configWorld();
 * const repo = w.repo(await w.clone("laptop"), "app-env");
 * ```
 * @module
 */
import { join } from "node:path";
import { type ConfigRepo, generateKeyHex, keyFromHex } from "../../src/secrets/mod.ts";

/** Runs git and returns stdout; throws with stderr on failure. */
export async function git(...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder();
  if (!out.success) throw new Error(`git ${args.join(" ")}: ${text.decode(out.stderr)}`);
  return text.decode(out.stdout);
}

/** The temp world: a bare remote, clones, a key. */
export interface ConfigWorld {
  dir: string;
  remote: string;
  keyHex: string;
  key: Uint8Array;
  /** Clones the remote into `<dir>/<name>` and returns its path. */
  clone(name: string): Promise<string>;
  /** A ConfigRepo for a checkout, decrypting into `<dir>/<envDir>`. */
  repo(path: string, envDir: string): ConfigRepo;
  /** Files of a branch on the remote. */
  remoteFiles(branch: string): Promise<string[]>;
  cleanup(): Promise<void>;
}

/** Creates a {@link ConfigWorld}. */
export async function configWorld(): Promise<ConfigWorld> {
  const dir = await Deno.makeTempDir({ prefix: "secrets-config-" });
  const remote = join(dir, "remote.git");
  await git("init", "--quiet", "--bare", remote);
  const keyHex = generateKeyHex();
  return {
    dir,
    remote,
    keyHex,
    key: keyFromHex(keyHex),
    async clone(name) {
      const path = join(dir, name);
      await git("clone", "--quiet", remote, path);
      return path;
    },
    repo: (path, envDir) => ({
      path,
      remote: "origin",
      environments: ["production", "staging", "dev"],
      env_dir: join(dir, envDir),
    }),
    async remoteFiles(branch) {
      const out = await git("--git-dir", remote, "ls-tree", "-r", "--name-only", branch);
      return out.split("\n").filter(Boolean).sort();
    },
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}
