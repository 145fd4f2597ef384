/**
 * Which files of a config checkout are plaintext env files (`.env`, `.env.production`, …) and
 * which are their encrypted forms (`*.enc`), and the `.gitignore` rules that keep plaintext
 * out of git.
 *
 * @example
 * ```ts
 * import { isPlaintextEnv, listFiles } from "./env_files.ts";
 * const plain = (await listFiles("/srv/config")).filter(isPlaintextEnv);
 * ```
 * @module
 */
import { basename, join } from "node:path";
import { ENC_SUFFIX } from "./files.ts";

/**
 * The `.gitignore` rules that ignore every plaintext env file but not the encrypted ones. The
 * negation must come after `.env.*` (which also matches `.env.enc`), so they are always added
 * as one block.
 */
export const GITIGNORE_RULES: readonly string[] = [".env", ".env.*", "!*.enc"];

/**
 * Whether a path names a plaintext env file: base name `.env` or `.env.<anything>`, not `.enc`.
 *
 * @example
 * ```ts
 * isPlaintextEnv("app/.env.production"); // true
 * isPlaintextEnv(".env.enc"); // false
 * ```
 */
export function isPlaintextEnv(path: string): boolean {
  const name = basename(path);
  return /^\.env(\..+)?$/.test(name) && !name.endsWith(ENC_SUFFIX);
}

/**
 * Whether a path names an encrypted file.
 *
 * @example
 * ```ts
 * isEncrypted(".env.production.enc"); // true
 * ```
 */
export function isEncrypted(path: string): boolean {
  return path.endsWith(ENC_SUFFIX) && basename(path) !== ENC_SUFFIX;
}

/**
 * Every regular file under `dir`, as paths relative to it, sorted; `.git` is skipped and
 * symbolic links are not followed.
 *
 * @example
 * ```ts
 * await listFiles("/srv/config"); // [".env.enc", ".gitignore", "worker/.env.enc"]
 * ```
 */
export async function listFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (relative: string) => {
    for await (const entry of Deno.readDir(join(dir, relative))) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory && entry.name !== ".git") await walk(path);
      else if (entry.isFile) found.push(path);
    }
  };
  await walk("");
  return found.sort();
}

/**
 * `.gitignore` text with the plaintext rules appended (as one block, after everything else)
 * unless every rule is already there in a working order; returns undefined when unchanged.
 *
 * @example
 * ```ts
 * withGitignoreRules("node_modules/\n"); // "node_modules/\n\n# ...\n.env\n.env.*\n!*.enc\n"
 * ```
 */
export function withGitignoreRules(text: string): string | undefined {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  const at = GITIGNORE_RULES.map((rule) => lines.lastIndexOf(rule));
  const inOrder = at.every((index, i) => index >= 0 && (i === 0 || index > at[i - 1]));
  if (inOrder) return undefined;
  const separator = text === "" ? "" : text.endsWith("\n") ? "\n" : "\n\n";
  return text + separator +
    "# protocol: plaintext env files never enter git; their .enc forms do\n" +
    GITIGNORE_RULES.join("\n") + "\n";
}

/**
 * Makes sure `<dir>/.gitignore` has the plaintext rules; returns whether it changed.
 *
 * @example
 * ```ts
 * if (await ensureGitignore("/srv/config")) console.log(".gitignore updated");
 * ```
 */
export async function ensureGitignore(dir: string): Promise<boolean> {
  const path = join(dir, ".gitignore");
  const text = await Deno.readTextFile(path).catch((error) => {
    if (error instanceof Deno.errors.NotFound) return "";
    throw error;
  });
  const updated = withGitignoreRules(text);
  if (updated === undefined) return false;
  await Deno.writeTextFile(path, updated);
  return true;
}
