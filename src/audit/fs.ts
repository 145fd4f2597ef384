/**
 * Small file helpers that make private files private regardless of the umask and durable
 * before we report success.
 *
 * @example
 * ```ts
 * import { writePrivateFileAtomic } from "./fs.ts";
 * await writePrivateFileAtomic("/tmp/x/secret.json", "{}");
 * ```
 * @module
 */
import { dirname } from "node:path";

/**
 * Writes `data` to `path` via a temp file + rename, mode 0600, fsynced, then fsyncs the
 * directory so the rename survives a crash.
 *
 * @example
 * ```ts
 * await writePrivateFileAtomic("/srv/state/audit-keyring.json", JSON.stringify({}));
 * ```
 */
export async function writePrivateFileAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const f = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 });
  try {
    // chmod as well as mode: mode is filtered by the umask, and we want exactly 0600.
    await Deno.chmod(tmp, 0o600);
    await writeAll(f, new TextEncoder().encode(data));
    await f.syncData();
  } finally {
    f.close();
  }
  await Deno.rename(tmp, path);
  await syncDir(dirname(path));
}

/**
 * Creates `path` only if it does not exist (mode 0600, fsynced); throws `Deno.errors.AlreadyExists`
 * otherwise, so two concurrent key generations cannot both win.
 *
 * @example
 * ```ts
 * declare const pem: string;
 * await writePrivateFileExclusive("/srv/state/audit-signing.key", pem);
 * ```
 */
export async function writePrivateFileExclusive(path: string, data: string): Promise<void> {
  const f = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  try {
    await Deno.chmod(path, 0o600);
    await writeAll(f, new TextEncoder().encode(data));
    await f.syncData();
  } finally {
    f.close();
  }
  await syncDir(dirname(path));
}

/**
 * Writes every byte (a write may be short); callers rely on one buffer per append.
 *
 * @example
 * ```ts
 * declare const file: Deno.FsFile;
 * await writeAll(file, new TextEncoder().encode("line\n"));
 * ```
 */
export async function writeAll(f: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await f.write(bytes.subarray(off));
}

/**
 * {@link writeAll} without the round trip through Deno's blocking thread pool: for a write to
 * the page cache, which returns in microseconds.
 *
 * @example
 * ```ts
 * declare const file: Deno.FsFile;
 * writeAllSync(file, new TextEncoder().encode("line\n"));
 * ```
 */
export function writeAllSync(f: Deno.FsFile, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += f.writeSync(bytes.subarray(off));
}

/**
 * fsyncs a directory so a create/rename in it is durable. Best effort: some filesystems refuse.
 *
 * @example
 * ```ts
 * await syncDir("/srv/state");
 * ```
 */
export async function syncDir(dir: string): Promise<void> {
  try {
    const d = await Deno.open(dir, { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  } catch {
    // Durability of the directory entry is an optimisation; the data itself was fsynced.
  }
}

/**
 * True when `path` exists.
 *
 * @example
 * ```ts
 * if (exists("/srv/state/audit-signing.key")) console.log("have key");
 * ```
 */
export function exists(path: string): boolean {
  // Synchronous: a local metadata lookup costs microseconds, and an async one a round trip
  // through the runtime's thread pool (every append asks, once per step).
  try {
    Deno.lstatSync(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/**
 * What tells one version of a file from the next without reading it: inode, size, modification
 * and change times. A file replaced by rename gets a new inode; one edited in place, a new size
 * or new times.
 *
 * @example
 * ```ts
 * const id = fileIdentity(await Deno.stat("/srv/state/audit-keyring.json"));
 * ```
 */
export function fileIdentity(st: Deno.FileInfo): string {
  return [st.dev, st.ino, st.size, st.mtime?.getTime(), st.ctime?.getTime()].join(":");
}
