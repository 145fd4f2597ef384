/**
 * Where the project is: the directory holding `runbooks/`, `tasks/` and `policies/`.
 *
 * @example
 * ```ts
 * import { projectRoot } from "./root.ts";
 * console.log(projectRoot(undefined)); // the directory holding runbooks/ and tasks/
 * ```
 * @module
 */
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";

/**
 * The project directory holding `runbooks/`, `tasks/` and `policies/`: `--root`, then
 * `$PROTOCOL_ROOT`, then the directory this tool is installed in.
 */
export function projectRoot(option: string | undefined): string {
  const given = option ?? Deno.env.get("PROTOCOL_ROOT");
  if (given) return resolve(Deno.env.get("INIT_CWD") ?? Deno.cwd(), given);
  return fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
}
