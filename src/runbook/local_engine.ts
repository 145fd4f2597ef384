/**
 * The runbook engine as drills use it ({@link RunbookEngine}): load, bind parameters and run
 * on the local machine (or the staging node given), unattended — every human item acknowledged, and the record says so.
 *
 * @example
 * ```ts
 * import { localEngine } from "./local_engine.ts";
 * const engine = localEngine(Deno.cwd());
 * (await engine.parameters("rollback")).length > 0; // true in this project
 * ```
 * @module
 */
import type { RunbookEngine } from "../drill/engine.ts";
import { LocalTarget } from "../targets/local.ts";
import { loadRunbook } from "./load.ts";
import { bindParameters } from "./params.ts";
import { runRunbook } from "./run.ts";

/**
 * The engine over the runbooks of `root`.
 *
 * @example
 * ```ts
 * import { localEngine } from "./local_engine.ts";
 * await localEngine(Deno.cwd()).parameters("deploy"); // ["version", ...]
 * ```
 */
export function localEngine(root: string): RunbookEngine {
  return {
    async parameters(name) {
      return Object.keys((await loadRunbook(root, name)).runbook.parameters);
    },
    async run(name, named, options) {
      const loaded = await loadRunbook(root, name);
      return await runRunbook(loaded, {
        root,
        params: bindParameters(loaded.runbook.parameters, [], named),
        config: options.config,
        stateDir: options.stateDir,
        target: options.target ?? new LocalTarget(),
        node: options.node,
        confirm: () => Promise.resolve("acknowledged"),
        observer: options.observer,
        journal: options.journal,
        signal: options.signal,
      });
    },
  };
}
