/**
 * The registry of operation step kinds: the step kinds that run one of the tool's own
 * operations (`policy: soc2`, `secrets: key --scp`, `config: refresh`, `shadow: start`) instead
 * of a shell script. Adding a kind is one file beside this one (an {@link Operation}, see
 * `operation.ts`) and one line in {@link OPERATIONS}: `validate`, `plan`, the schema and runs
 * take it from here.
 *
 * @example
 * ```ts
 * import { isOperation, OPERATIONS } from "./operations.ts";
 * isOperation("shadow"); // true
 * OPERATIONS.shadow.problem("promote", "."); // says what is expected
 * ```
 * @module
 */
import type { Operation, OperationContext, OperationRunners } from "./operation.ts";
import { configOperation } from "./config_step.ts";
import { policyOperation } from "./policy_step.ts";
import { secretsOperation } from "./secrets_step.ts";
import { shadowOperation } from "./shadow_step.ts";
import { restartOperation } from "./restart_step.ts";

export type { Operation, OperationContext, OperationRunners } from "./operation.ts";

/** Every operation step kind this version can run. */
export const OPERATIONS = {
  policy: policyOperation,
  secrets: secretsOperation,
  config: configOperation,
  shadow: shadowOperation,
  restart: restartOperation,
} satisfies Record<string, Operation>;

/** An operation step kind. */
export type OperationKind = keyof typeof OPERATIONS;

/** Builds every operation's runner for a run. */
export function operationRunners(context: OperationContext): OperationRunners {
  return Object.fromEntries(
    Object.entries(OPERATIONS).map(([kind, operation]) => [kind, operation.runner(context)]),
  );
}

/** Whether a step kind is an operation. */
export function isOperation(kind: string): kind is OperationKind {
  return Object.hasOwn(OPERATIONS, kind);
}
