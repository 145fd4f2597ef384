/**
 * Encrypting and decrypting files in the envelope format, and writing plaintext safely: a
 * decrypted file is created with mode 0600 under a temporary name and renamed into place, so
 * no reader ever sees it half-written or world-readable.
 *
 * @example
 * ```ts
 * import { readKey } from "./key_file.ts";
 * const key = await readKey("/home/deploy/.protocol");
 * import { decryptFile, encryptFile } from "./files.ts";
 * const enc = await encryptFile(key, "/srv/config/.env");     // writes /srv/config/.env.enc
 * await decryptFile(key, enc, "/opt/myapp/shared/.env");       // mode 0600
 * ```
 * @module
 */
import { basename, dirname } from "node:path";
import { decryptEnvelope, encryptEnvelope } from "./cipher.ts";
import { SecretsInputError } from "./errors.ts";

/** The suffix of encrypted files. */
export const ENC_SUFFIX = ".enc";

/**
 * Writes `data` to `path` atomically: a temp file in the same directory with `mode`, synced,
 * then renamed over `path`.
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode("A=1\n");
 * await writeFileAtomic("/opt/myapp/shared/.env", bytes, 0o600);
 * ```
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  mode: number,
): Promise<void> {
  const temp = `${dirname(path)}/.${crypto.randomUUID()}.tmp`;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const file = await Deno.open(temp, { write: true, createNew: true, mode });
  try {
    await Deno.chmod(temp, mode); // the umask may have changed the mode at creation
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
  } catch (error) {
    file.close();
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
  file.close();
  try {
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

/**
 * Reads a file, turning "not found" into a {@link SecretsInputError} naming it.
 *
 * @example
 * ```ts
 * const bytes = await readInput(".env");
 * ```
 */
export async function readInput(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new SecretsInputError(`no such file: ${path}`);
    if (error instanceof Deno.errors.IsADirectory) {
      throw new SecretsInputError(`${path} is a directory, not a file`);
    }
    throw error;
  }
}

/**
 * Encrypts the file at `path` into `out` (default `path + ".enc"`, mode 0644: it is safe to
 * share) and returns `out`. The plaintext is left in place.
 *
 * @example
 * ```ts
 * import { readKey } from "./key_file.ts";
 * const key = await readKey("/home/deploy/.protocol");
 * await encryptFile(key, ".env"); // ".env.enc"
 * ```
 */
export async function encryptFile(
  key: Uint8Array,
  path: string,
  out = path + ENC_SUFFIX,
): Promise<string> {
  const envelope = await encryptEnvelope(key, await readInput(path));
  await writeFileAtomic(out, envelope, 0o644);
  return out;
}

/**
 * Decrypts the envelope file at `path` and returns the plaintext bytes, without writing it.
 *
 * @example
 * ```ts
 * import { readKey } from "./key_file.ts";
 * const key = await readKey("/home/deploy/.protocol");
 * const text = new TextDecoder().decode(await decryptFileToBytes(key, ".env.enc"));
 * ```
 */
export async function decryptFileToBytes(key: Uint8Array, path: string): Promise<Uint8Array> {
  const text = new TextDecoder().decode(await readInput(path));
  return await decryptEnvelope(key, text, path);
}

/**
 * Decrypts the envelope file at `path` into `out` (default: `path` without `.enc`), mode 0600,
 * and returns the plaintext (for a {@link SecretMasker}) and where it went. Nothing is written
 * when authentication fails.
 *
 * @example
 * ```ts
 * import { SecretMasker } from "./masking.ts";
 * const masker = new SecretMasker();
 * import { readKey } from "./key_file.ts";
 * const key = await readKey("/home/deploy/.protocol");
 * const { out, plaintext } = await decryptFile(key, ".env.enc");
 * masker.addEnv(new TextDecoder().decode(plaintext));
 * ```
 */
export async function decryptFile(
  key: Uint8Array,
  path: string,
  out?: string,
): Promise<{ out: string; plaintext: Uint8Array }> {
  const target = out ?? plaintextName(path);
  const plaintext = await decryptFileToBytes(key, path);
  await writeFileAtomic(target, plaintext, 0o600);
  return { out: target, plaintext };
}

/**
 * The plaintext name of an encrypted file: `x.enc` → `x`; a name without `.enc` is an error.
 *
 * @example
 * ```ts
 * plaintextName("/srv/config/.env.enc"); // "/srv/config/.env"
 * ```
 */
export function plaintextName(path: string): string {
  if (!path.endsWith(ENC_SUFFIX) || basename(path) === ENC_SUFFIX) {
    throw new SecretsInputError(`${path} does not end in ${ENC_SUFFIX}; say where to write it`);
  }
  return path.slice(0, -ENC_SUFFIX.length);
}
