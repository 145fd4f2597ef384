/**
 * Which target a policy command runs against (`--target NODE`): `local`, or a node of the
 * configuration reached over SSH. Facts are gathered there; `app.*` in a policy reads the
 * node's own app settings (its directory, say).
 *
 * @example
 * ```ts
 * import { resolvePolicyTarget } from "./target.ts";
 * const { target, config, close } = await resolvePolicyTarget("local", undefined);
 * console.log(target.name, config?.app.dir); // "local" undefined
 * await close();
 * ```
 * @module
 */
import { nodeApp } from "../targets/inventory.ts";
import { UsageError } from "../errors.ts";
import type { Config } from "../config/mod.ts";
import { LocalTarget } from "../targets/local.ts";
import { TargetPool } from "../targets/pool.ts";
import type { Target } from "../targets/target.ts";

/** A connected target, the configuration as that node sees it, and how to disconnect. */
export interface PolicyTarget {
  target: Target;
  config: Config | undefined;
  close(): Promise<void>;
}

/**
 * Connects to the target named `name`. Throws `UnknownTargetError` (exit 2) for a name the
 * configuration does not know, and `SshConnectError` when the node cannot be reached.
 */
export async function resolvePolicyTarget(
  name: string,
  config: Config | undefined,
): Promise<PolicyTarget> {
  if (!config) {
    if (name !== "local") {
      throw new UsageError(`--target ${name} needs a configuration that lists the node`);
    }
    return { target: new LocalTarget(), config, close: () => Promise.resolve() };
  }
  const pool = new TargetPool(config);
  const node = pool.inventory.node(name);
  try {
    const target = await pool.connect(node);
    return { target, config: { ...config, app: nodeApp(config, node) }, close: () => pool.close() };
  } catch (error) {
    await pool.close();
    throw error;
  }
}
