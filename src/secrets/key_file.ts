/**
 * The encryption key file `<stateDir>/key`: 32 random bytes written as 64 lowercase hex
 * characters, no newline, mode 0600 in a 0700 directory (what the SOC 2 policy checks).
 *
 * @example
 * ```ts
 * import { readKey, storeKey } from "./key_file.ts";
 * await storeKey("/home/deploy/.protocol"); // generates one
 * const key = await readKey("/home/deploy/.protocol"); // 32 bytes
 * ```
 * @module
 */
import { join } from "node:path";
import { ensureStateDir } from "../state/mod.ts";
import { KEY_BYTES } from "./cipher.ts";
import { SecretsInputError, SecretsRefusedError } from "./errors.ts";

/** Base name of the key file inside the state directory. */
export const KEY_FILE = "key";

const HEX_KEY = /^[0-9a-fA-F]{64}$/;

/**
 * Path of the key file in a state directory.
 *
 * @example
 * ```ts
 * keyPath("/home/deploy/.protocol"); // "/home/deploy/.protocol/key"
 * ```
 */
export function keyPath(stateDir: string): string {
  return join(stateDir, KEY_FILE);
}

/**
 * A new random key as 64 lowercase hex characters.
 *
 * @example
 * ```ts
 * generateKeyHex().length; // 64
 * ```
 */
export function generateKeyHex(): string {
  return crypto.getRandomValues(new Uint8Array(KEY_BYTES)).toHex();
}

/**
 * Checks and normalizes a hex key (surrounding whitespace dropped, lowercased); throws a
 * {@link SecretsInputError} that never repeats the rejected value.
 *
 * @example
 * ```ts
 * normalizeKeyHex("AB".repeat(32)); // "ab" repeated 32 times
 * ```
 */
export function normalizeKeyHex(hex: string): string {
  const trimmed = hex.trim();
  if (!HEX_KEY.test(trimmed)) {
    throw new SecretsInputError(
      `the key must be 64 hexadecimal characters (32 bytes); got ${trimmed.length} characters` +
        (/^[0-9a-fA-F]*$/.test(trimmed) ? "" : " including non-hex ones"),
    );
  }
  return trimmed.toLowerCase();
}

/**
 * The 32 key bytes of a hex key.
 *
 * @example
 * ```ts
 * keyFromHex("00".repeat(32)).length; // 32
 * ```
 */
export function keyFromHex(hex: string): Uint8Array {
  return Uint8Array.fromHex(normalizeKeyHex(hex));
}

/**
 * Whether a key file exists in the state directory.
 *
 * @example
 * ```ts
 * const stateDir = "/home/deploy/.protocol";
 * if (!await hasKey(stateDir)) console.error("run secrets:setup first");
 * ```
 */
export async function hasKey(stateDir: string): Promise<boolean> {
  try {
    await Deno.lstat(keyPath(stateDir));
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * Reads the key file as hex (validated). A missing file says how to create one.
 *
 * @example
 * ```ts
 * const stateDir = "/home/deploy/.protocol";
 * console.log(await readKeyHex(stateDir)); // for a password-manager backup
 * ```
 */
export async function readKeyHex(stateDir: string): Promise<string> {
  const path = keyPath(stateDir);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new SecretsInputError(
        `no encryption key at ${path}; create one with \`deno task secrets:setup\``,
      );
    }
    throw error;
  }
  try {
    return normalizeKeyHex(text);
  } catch (error) {
    throw new SecretsInputError(`the key file ${path} is damaged: ${(error as Error).message}`);
  }
}

/**
 * Reads the key file as the 32 key bytes.
 *
 * @example
 * ```ts
 * const stateDir = "/home/deploy/.protocol";
 * const key = await readKey(stateDir);
 * ```
 */
export async function readKey(stateDir: string): Promise<Uint8Array> {
  return Uint8Array.fromHex(await readKeyHex(stateDir));
}

/** What {@link storeKey} did. */
export interface StoredKey {
  /** The key file. */
  path: string;
  /** Whether the key was generated here (rather than given). */
  generated: boolean;
  /** Where the previous key was kept, when one was rotated out. */
  previous?: string;
}

/**
 * Stores `hex` (or a newly generated key) as the key file, mode 0600, directory 0700. Refuses
 * to replace an existing key unless `rotate`: then the old key stays as `key.old-<UTC time>`
 * (a hard link, so there is no moment without a key) and the new one replaces it atomically.
 *
 * @example
 * ```ts
 * const stateDir = "/home/deploy/.protocol";
 * const { path, previous } = await storeKey(stateDir, undefined, { rotate: true });
 * console.log(`new key at ${path}; old key kept at ${previous}`);
 * ```
 */
export async function storeKey(
  stateDir: string,
  hex?: string,
  options: { rotate?: boolean; now?: Date } = {},
): Promise<StoredKey> {
  const value = hex === undefined ? generateKeyHex() : normalizeKeyHex(hex);
  await ensureStateDir(stateDir);
  const path = keyPath(stateDir);
  const exists = await hasKey(stateDir);
  if (exists && !options.rotate) {
    throw new SecretsRefusedError(
      `an encryption key already exists at ${path}; refusing to overwrite it ` +
        "(files encrypted with it would become unreadable). Use --rotate to replace it.",
    );
  }
  const temp = `${path}.tmp-${crypto.randomUUID()}`;
  await Deno.writeTextFile(temp, value, { mode: 0o600, createNew: true });
  let previous: string | undefined;
  try {
    await Deno.chmod(temp, 0o600); // the umask may have narrowed the mode, never widened it
    if (exists) {
      const stamp = (options.now ?? new Date()).toISOString().replace(/[-:]|\.\d+/g, "");
      previous = `${path}.old-${stamp}`;
      await Deno.link(path, previous);
      await Deno.chmod(previous, 0o600);
    }
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
  await syncDir(stateDir);
  return { path, generated: hex === undefined, previous };
}

async function syncDir(dir: string): Promise<void> {
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.sync();
  } catch {
    // Some filesystems cannot sync a directory; the rename is still atomic.
  } finally {
    handle.close();
  }
}
