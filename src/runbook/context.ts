/**
 * What a run looks like from one node: the template context (`params`, `vars`, `app`, `run`,
 * `target`, `steps`) of a runbook on that node, and the journal every entry of the run goes
 * through with secrets masked.
 *
 * @example
 * ```ts
 * import { targetInfo } from "./context.ts";
 * import { LOCAL_NODE } from "../targets/inventory.ts";
 * console.log(targetInfo(LOCAL_NODE, undefined).name); // "local"
 * ```
 * @module
 */
import type { Config } from "../config/mod.ts";
import type { Journal } from "../journal.ts";
import { type InventoryNode, LOCAL_NODE, nodeApp, sshEndpoint } from "../targets/inventory.ts";
import { hostName, operator } from "../state/mod.ts";
import type { LoadedRunbook } from "./load.ts";
import type { RunContext } from "./plan.ts";
import type { SecretMasker } from "../secrets/masking.ts";
import type { TemplateValue } from "../template.ts";

/**
 * A journal that masks every secret value the masker knows (now or later) in each entry.
 *
 * @example
 * ```ts
 * import { maskedJournal } from "./context.ts";
 * import { SecretMasker } from "../secrets/masking.ts";
 * const seen: Record<string, unknown>[] = [];
 * const journal = maskedJournal({ record: async (f) => void seen.push(f) }, new SecretMasker());
 * await journal.record({ action: "run", status: "initiated" });
 * ```
 */
export function maskedJournal(journal: Journal, masker: SecretMasker): Journal {
  return { record: (fields) => journal.record(masker.maskFields(fields)) };
}

/**
 * What templates read as `target.*` on `node`.
 *
 * @example
 * ```ts
 * import { targetInfo } from "./context.ts";
 * import { LOCAL_NODE } from "../targets/inventory.ts";
 * targetInfo(LOCAL_NODE, undefined).port; // 0
 * ```
 */
export function targetInfo(
  node: InventoryNode,
  config: Pick<Config, "ssh"> | undefined,
): RunContext["target"] {
  if (!node.ssh) return { name: "local", host: hostName(), port: 0, user: operator(), groups: "" };
  const { host, port, user } = sshEndpoint(node.name, node.ssh, config?.ssh ?? { port: 22 });
  return { name: node.name, host, port, user: user ?? "", groups: node.groups.join(",") };
}

/**
 * Builds the template context of a run on `node`.
 *
 * @example
 * ```ts
 * import { runContext } from "./context.ts";
 * import type { LoadedRunbook } from "./load.ts";
 * declare const loaded: LoadedRunbook;
 * const context = runContext(loaded, { version: "v1.2.0" }, undefined, "run-1");
 * context.params.version; // "v1.2.0"
 * ```
 */
export function runContext(
  loaded: LoadedRunbook,
  params: Record<string, TemplateValue>,
  config: Config | undefined,
  runId: string,
  node: InventoryNode = LOCAL_NODE,
): RunContext {
  // A declared parameter with no value reads as "", so optional parameters can be tested.
  const unset = Object.fromEntries(Object.keys(loaded.runbook.parameters).map((k) => [k, ""]));
  return {
    params: { ...unset, ...params },
    vars: { ...loaded.runbook.vars, ...config?.vars, ...node.ssh?.vars },
    app: config ? { ...nodeApp(config, node) } as Record<string, string> : {},
    run: { id: runId, operator: operator(), host: hostName(), started: new Date().toISOString() },
    target: targetInfo(node, config),
    steps: new Map(),
  };
}
