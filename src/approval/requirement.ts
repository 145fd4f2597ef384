/**
 * A runbook's approval requirement in words, for the change-ticket checklist and for the gate's
 * refusals: who must approve, and the commands that ask for and give the approval. Pure.
 *
 * @example
 * ```ts
 * import { approvalChecklistItem, requestCommand } from "./requirement.ts";
 * requestCommand("deploy", [["version", "v1.2.0", true]]); // "deno task request deploy v1.2.0"
 * approvalChecklistItem({ runbook: "deploy", policy: { required: 1, by: "approver",
 *   not_operator: true }, emergency: false, params: [["version", "v1.2.0", true]] });
 * ```
 * @module
 */
import { shellJoin } from "../shell/quote.ts";
import type { ApprovalPolicy } from "./check.ts";

/** A parameter as the request command passes it: name, value, and whether it is positional. */
export type RequestParam = [name: string, value: string | number | boolean, positional: boolean];

/**
 * The command that asks for approval of a run: positional parameters bare, in order, the others
 * as `-p name=value`, every word quoted where it must be.
 *
 * @example
 * ```ts
 * import { requestCommand } from "./requirement.ts";
 * requestCommand("config-change", [["env", "production", true], ["note", "a b", false]]);
 * // "deno task request config-change production -p 'note=a b'"
 * ```
 */
export function requestCommand(runbook: string, params: readonly RequestParam[]): string {
  return taskCommand("request", runbook, params);
}

function taskCommand(task: string, runbook: string, params: readonly RequestParam[]): string {
  const positional = params.filter(([, , bare]) => bare).map(([, value]) => String(value));
  const named = params.filter(([, , bare]) => !bare)
    .flatMap(([name, value]) => ["-p", `${name}=${value}`]);
  return shellJoin(["deno", "task", task, runbook, ...positional, ...named]);
}

/**
 * Who must approve, in words: `1 approval by role approver, not the operator`.
 *
 * @example
 * ```ts
 * import { whoApproves } from "./requirement.ts";
 * whoApproves({ required: 2, by: "approver", not_operator: true });
 * // "2 approvals by role approver, not the operator"
 * ```
 */
export function whoApproves(policy: ApprovalPolicy): string {
  return `${policy.required} approval${policy.required === 1 ? "" : "s"} by role ${policy.by}` +
    (policy.not_operator ? ", not the operator" : "");
}

/** What the checklist item of a runbook's approval is made of. */
export interface ApprovalRequirement {
  runbook: string;
  policy: ApprovalPolicy;
  /** The runbook permits `--emergency` runs. */
  emergency: boolean;
  /** The run's parameters, as {@link requestCommand} takes them. */
  params: readonly RequestParam[];
}

/**
 * The change-ticket item that replaces a self-ticked "PR approved": the signed request, who must
 * approve it, and the commands, with a blank for the request id.
 *
 * @example
 * ```ts
 * import { approvalChecklistItem } from "./requirement.ts";
 * approvalChecklistItem({ runbook: "rollback", policy: { required: 1, by: "approver",
 *   not_operator: true }, emergency: true, params: [] });
 * ```
 */
export function approvalChecklistItem(requirement: ApprovalRequirement): string {
  const { runbook, policy, emergency, params } = requirement;
  return `Change request CR-________ approved (${whoApproves(policy)}), checked before ` +
    `anything runs: operator \`${requestCommand(runbook, params)}\`, approver ` +
    `\`deno task approve CR_ID\`, operator \`${taskCommand("run", runbook, params)} ` +
    `--request CR_ID\`` +
    (emergency
      ? `; in an emergency \`--emergency "reason"\` instead (retro-review within 2 business days)`
      : "");
}
