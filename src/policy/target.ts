/**
 * Which target a policy command runs against (`--target NODE`). Only `local` exists in this
 * branch; the inventory of SSH nodes replaces this one function when it lands.
 *
 * @example
 * ```ts
 * import { resolvePolicyTarget } from "./target.ts";
 * const target = resolvePolicyTarget("local", undefined);
 * console.log(target.name); // "local"
 * ```
 * @module
 */
import { UsageError } from "../cli/common.ts";
import type { Config } from "../config/mod.ts";
import { LocalTarget } from "../targets/local.ts";
import type { Target } from "../targets/target.ts";

/** The target named `name`; a {@link UsageError} (exit 2) for any name it does not know. */
export function resolvePolicyTarget(name: string, _config: Config | undefined): Target {
  if (name === "local") return new LocalTarget();
  throw new UsageError(`unknown target ${name}; known: local`);
}
