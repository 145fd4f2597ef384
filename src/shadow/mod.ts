/**
 * Blue-green (shadow) deploys, SOP 4: `shadow:init`, `shadow:build VERSION`, `shadow:status`,
 * `shadow:start` (promote) and `shadow:rollback`, on `local` or on nodes over SSH.
 *
 * **How traffic switches.** The tool is agentless (it only runs shell on the node), so it runs
 * a small front proxy of its own on each node: `socat` listening on the live port, forking per
 * connection, and for each new connection reading `<app.dir>/shadow/live.port` to find the slot
 * to forward to. A switch replaces that one file with a rename, which is atomic: each new
 * connection goes wholly to the old slot or wholly to the new one, never nowhere. Connections
 * already open finish where they started, and the old release keeps running as the standby, so
 * nothing in flight is cut and a rollback is the same one-file switch back. The app needs no
 * port handover (no SO_REUSEPORT, no fd passing): any app that can listen on `$PORT` works. In
 * production an nginx or HAProxy reload does the same job; this proxy is what a node without
 * one gets, and the switch is the same either way.
 *
 * Slots are `blue` and `green`; releases are SOP 1's `<app.dir>/releases/<version>`, and
 * `current` and `history` follow every switch.
 *
 * @example
 * ```ts
 * import { parseShadowOperand, runShadow, shadowSettings } from "./mod.ts";
 * // const settings = shadowSettings(config.shadow, nodeApp(config, node), config.file);
 * // const operation = parseShadowOperand("build v1.2.0");
 * // if (typeof operation !== "string") {
 * //   const result = await runShadow(operation, { target, settings, run, operator, host });
 * // }
 * ```
 * @module
 */
export {
  changesNode,
  operationLabel,
  parseShadowOperand,
  SHADOW_HELP,
  SHADOW_KINDS,
  type ShadowOperation,
  VERSION_PATTERN,
} from "./operation.ts";
export { ShadowNotConfiguredError, type ShadowSettings, shadowSettings } from "./settings.ts";
export { performShadow, type ShadowContext, ShadowFailure, type ShadowOutcome } from "./execute.ts";
export { runShadow, type ShadowResult, type ShadowRunOptions } from "./run.ts";
export {
  describeState,
  parseShadowState,
  type ShadowState,
  type SlotRole,
  type SlotState,
} from "./state.ts";
export { shadowDir, type Slot, SLOTS } from "./scripts.ts";
