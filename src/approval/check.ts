/**
 * The approval gate, as one pure function: may this exact run start under this request?
 *
 * @example
 * ```ts
 * import { checkApproval } from "./check.ts";
 * const verdict = checkApproval({
 *   request: undefined, approvals: [], approvers: [],
 *   about: { runbook: "deploy", params: { version: "v1.2.0" }, nodes: ["web-1"], commit: null,
 *     operator: "bob@example.com" },
 *   policy: { required: 1, by: "approver", not_operator: true },
 *   now: new Date(),
 * });
 * verdict.ok; // false: refusals[0].code === "no_request"
 * ```
 * @module
 */
import canonicalize from "canonicalize";
import type { Approver } from "./approvers.ts";
import {
  type ChangeRequest,
  type ParamValue,
  requestHash,
  type SignedApproval,
  type SignedRequest,
} from "./request.ts";
import { APPROVAL_DOMAIN, REQUEST_DOMAIN, verifyDocument } from "./signed.ts";

/** What a runbook declares: `approval: { required: 1, by: approver, not_operator: true }`. */
export interface ApprovalPolicy {
  required: number;
  /** The role an approver must hold. */
  by: string;
  /** The operator's own approval does not count. */
  not_operator: boolean;
}

/** The run that is about to start, as the engine would run it. */
export interface AboutToRun {
  runbook: string;
  params: Record<string, ParamValue>;
  nodes: string[];
  commit: string | null;
  /** The identity of the person starting the run. */
  operator: string;
}

/** Why a run may not start. */
export type RefusalCode =
  | "no_request"
  | "bad_signature"
  | "unknown_operator"
  | "not_deployer"
  | "operator_changed"
  | "runbook_changed"
  | "params_changed"
  | "nodes_changed"
  | "commit_changed"
  | "expired"
  | "not_operator"
  | "too_few_approvals"
  | "already_used";

/** One reason, for the operator to read. */
export interface Refusal {
  code: RefusalCode;
  message: string;
}

/** The gate's answer; `approvedBy` lists the approvals that counted. */
export type Verdict =
  | { ok: true; approvedBy: string[]; refusals: [] }
  | { ok: false; approvedBy: string[]; refusals: Refusal[] };

/** Everything the gate looks at. */
export interface ApprovalInput {
  request: SignedRequest | undefined;
  approvals: SignedApproval[];
  approvers: Approver[];
  about: AboutToRun;
  policy: ApprovalPolicy;
  now: Date;
  /**
   * The runs that already carried out this request (their entries in the audit log name it):
   * a request approves one change, so any of them refuses another run — except those in
   * `resuming`, the failed or aborted run this one continues.
   */
  carriedOutBy?: readonly string[];
  /** The run this one resumes (`--resume`) and the runs that one resumed in turn. */
  resuming?: readonly string[];
}

/**
 * Checks a request and its approvals against the run about to start. Refuses when the request
 * is missing, not signed by a listed deployer, differs from the run in any bound field, was
 * already carried out by another run, has expired, or lacks `policy.required` valid prior approvals from distinct listed people holding
 * `policy.by` (the operator's own never counts when `not_operator`).
 *
 * @example
 * ```ts
 * // const verdict = checkApproval({ request, approvals, approvers, about, policy, now: new Date() });
 * // if (!verdict.ok) for (const r of verdict.refusals) console.error(`${r.code}: ${r.message}`);
 * ```
 */
export function checkApproval(input: ApprovalInput): Verdict {
  const { request: signed, about, policy } = input;
  if (!signed) {
    return refuse([], [{
      code: "no_request",
      message: `no change request for this ${about.runbook} run: create one with ` +
        `\`deno task request ${about.runbook} ...\` and have an approver sign it`,
    }]);
  }
  const request = signed.request;
  const byName = new Map(input.approvers.map((a) => [a.name, a]));
  const refusals: Refusal[] = [
    ...signatureRefusals(signed, byName.get(request.operator)),
    ...matchRefusals(request, about),
  ];
  const earlier = (input.carriedOutBy ?? []).filter((run) => !input.resuming?.includes(run));
  if (earlier.length) {
    refusals.push({
      code: "already_used",
      message: `${request.id} was carried out by run ${earlier.join(", ")}: an approval ` +
        `covers one change; request this one again (\`deno task request ${request.runbook} ...\`)` +
        ` or continue that run with --resume`,
    });
  }
  if (input.now.getTime() > Date.parse(request.expires)) {
    refusals.push({
      code: "expired",
      message: `${request.id} expired at ${request.expires}: request the change again`,
    });
  }
  const counted = new Set<string>();
  let selfApproved = false;
  const hash = requestHash(request);
  for (const { approval, signature } of input.approvals) {
    const approver = byName.get(approval.approver);
    const valid = approval.request === request.id && approval.request_hash === hash &&
      approval.kind === "prior" && approver !== undefined &&
      approver.publicKey === approval.approver_key &&
      approver.roles.includes(policy.by as never) &&
      verifyDocument(APPROVAL_DOMAIN, approval, signature, approver.publicKey);
    if (!valid) continue;
    if (
      policy.not_operator && (approval.approver === about.operator ||
        approval.approver === request.operator)
    ) {
      selfApproved = true;
      continue;
    }
    counted.add(approval.approver);
  }
  const approvedBy = [...counted].sort();
  if (selfApproved) {
    refusals.push({
      code: "not_operator",
      message: `the operator's own approval does not count: someone else with the role ` +
        `${policy.by} must approve ${request.id}`,
    });
  }
  if (approvedBy.length < policy.required) {
    refusals.push({
      code: "too_few_approvals",
      message: `${request.id} needs ${policy.required} approval(s) by a listed ${policy.by} ` +
        `other than the operator, has ${approvedBy.length}` +
        (approvedBy.length ? ` (${approvedBy.join(", ")})` : "") +
        `: \`deno task approve ${request.id}\``,
    });
  }
  return refusals.length ? refuse(approvedBy, refusals) : { ok: true, approvedBy, refusals: [] };
}

function refuse(approvedBy: string[], refusals: Refusal[]): Verdict {
  return { ok: false, approvedBy, refusals };
}

function signatureRefusals(signed: SignedRequest, operator: Approver | undefined): Refusal[] {
  const { request } = signed;
  if (!operator) {
    return [{
      code: "unknown_operator",
      message: `${request.operator}, who requested ${request.id}, is not in the approvers file`,
    }];
  }
  if (
    operator.publicKey !== request.operator_key ||
    !verifyDocument(REQUEST_DOMAIN, request, signed.signature, operator.publicKey)
  ) {
    return [{
      code: "bad_signature",
      message: `${request.id} is not signed by ${request.operator}'s listed key: ` +
        `it was altered after it was requested`,
    }];
  }
  if (!operator.roles.includes("deployer")) {
    return [{
      code: "not_deployer",
      message: `${request.operator} does not have the role deployer in the approvers file`,
    }];
  }
  return [];
}

function matchRefusals(request: ChangeRequest, about: AboutToRun): Refusal[] {
  const refusals: Refusal[] = [];
  if (request.operator !== about.operator) {
    refusals.push({
      code: "operator_changed",
      message: `${request.id} was requested by ${request.operator}, not ${about.operator}: ` +
        `the person who asked runs it`,
    });
  }
  if (request.runbook !== about.runbook) {
    refusals.push({
      code: "runbook_changed",
      message: `${request.id} is for runbook ${request.runbook}, not ${about.runbook}`,
    });
  }
  const changed = changedKeys(request.params, about.params);
  if (changed.length) {
    refusals.push({
      code: "params_changed",
      message: `parameters differ from ${request.id}: ${
        changed.map((k) => `${k}=${show(about.params[k])} (approved: ${show(request.params[k])})`)
          .join(", ")
      }`,
    });
  }
  const nodes = [...new Set(about.nodes)].sort();
  if (canonicalize(nodes) !== canonicalize(request.nodes)) {
    refusals.push({
      code: "nodes_changed",
      message: `nodes differ from ${request.id}: about to run on ${nodes.join(", ")}, ` +
        `approved for ${request.nodes.join(", ")}`,
    });
  }
  if (request.commit !== about.commit) {
    refusals.push({
      code: "commit_changed",
      message: `the release now points to commit ${about.commit ?? "(none)"}, ` +
        `${request.id} approved ${request.commit ?? "(none)"}: the tag moved`,
    });
  }
  return refusals;
}

function changedKeys(a: Record<string, ParamValue>, b: Record<string, ParamValue>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k])
    .sort();
}

function show(value: ParamValue | undefined): string {
  return value === undefined ? "(unset)" : JSON.stringify(value);
}
