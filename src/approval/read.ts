/**
 * Reading one of the approval files — the approvers file, a change request, a person's
 * identity — where a missing file is the user's to fix and says how, and any other error
 * (permissions, a directory in its place) is reported as it is.
 *
 * @example
 * ```ts
 * import { readOrRefuse } from "./read.ts";
 * import { InputError } from "../errors.ts";
 * const text = await readOrRefuse("deno.json", (path) => new InputError(`no ${path}`));
 * text.length > 0; // true
 * ```
 * @module
 */

/**
 * The text of `path`; when there is no such file, throws what `refuse(path)` makes.
 *
 * @example
 * ```ts
 * import { readOrRefuse } from "./read.ts";
 * await readOrRefuse("/nonexistent", (path) => new Error(`create ${path}`)).catch((e) => e.message);
 * // "create /nonexistent"
 * ```
 */
export async function readOrRefuse(path: string, refuse: (path: string) => Error): Promise<string> {
  return new TextDecoder().decode(await readBytesOrRefuse(path, refuse));
}

/**
 * The bytes of `path` (for a hash of the file as it is); when there is no such file, throws
 * what `refuse(path)` makes.
 *
 * @example
 * ```ts
 * import { readBytesOrRefuse } from "./read.ts";
 * (await readBytesOrRefuse("deno.json", (path) => new Error(`no ${path}`))).length > 0; // true
 * ```
 */
export async function readBytesOrRefuse(
  path: string,
  refuse: (path: string) => Error,
): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw refuse(path);
    throw error;
  }
}
