/**
 * The five shadow operations of SOP 4 as data, and the one parser that the command line and
 * runbook steps (`shadow: build v1.2.0`) share. Pure.
 *
 * @example
 * ```ts
 * import { parseShadowOperand } from "./operation.ts";
 * parseShadowOperand("build v1.2.0"); // { kind: "build", version: "v1.2.0" }
 * parseShadowOperand("promote");      // a string saying what is expected
 * ```
 * @module
 */

/** One shadow operation. */
export type ShadowOperation =
  | { kind: "init" }
  | { kind: "build"; version: string }
  | { kind: "status" }
  | { kind: "start" }
  | { kind: "rollback" };

/** The operation names, in SOP order. */
export const SHADOW_KINDS = ["init", "build", "status", "start", "rollback"] as const;

/** What each operation does, for help texts and the runbook schema. */
export const SHADOW_HELP: Record<ShadowOperation["kind"], string> = {
  init: "start the node's front proxy on the live port (adopting the active release)",
  build: "fetch VERSION into the shadow slot, start it on a free port, health-check it",
  status: "show the proxy, the live slot and the shadow/standby slot, with health",
  start: "promote: the shadow takes new connections, the old release stays as standby",
  rollback: "switch new connections back to the standby release",
};

/**
 * A release tag: one safe word (it names a directory and a git ref). Values are quoted in
 * every script anyway; this keeps `releases/<version>` a plain directory name.
 */
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/** Whether an operation changes the node (and so takes its deploy lock). */
export function changesNode(operation: ShadowOperation): boolean {
  return operation.kind !== "status";
}

/** Parses `init`, `build VERSION`, `status`, `start` or `rollback`; a string says what is wrong. */
export function parseShadowOperand(operand: string): ShadowOperation | string {
  const [kind = "", ...args] = operand.trim().split(/\s+/);
  const expected = "expected one of: init, build VERSION, status, start, rollback";
  if (kind === "build") {
    if (args.length !== 1) return `\`build\` takes one release tag: build VERSION (${expected})`;
    if (!VERSION_PATTERN.test(args[0])) {
      return `"${args[0]}" is not a release tag (letters, digits, . _ + -, such as v1.2.0)`;
    }
    return { kind, version: args[0] };
  }
  if (kind === "init" || kind === "status" || kind === "start" || kind === "rollback") {
    if (args.length) return `\`${kind}\` takes no argument, got "${args.join(" ")}"`;
    return { kind };
  }
  return kind ? `unknown shadow operation "${kind}": ${expected}` : expected;
}

/** The operation as the command line spells it: `shadow:build v1.2.0`. */
export function operationLabel(operation: ShadowOperation): string {
  return `shadow:${operation.kind}${operation.kind === "build" ? ` ${operation.version}` : ""}`;
}
