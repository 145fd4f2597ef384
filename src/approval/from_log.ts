/**
 * Requests and approvals as the audit log records them, checked from the log alone: each
 * `change.request` entry carries every field the operator signed and each `change.approval`
 * entry every field its approver signed, so anyone with the log rebuilds the signed documents
 * and verifies the signatures — no request file, no approvers file, no trust in the host that
 * wrote the entries (a program of the deploy user's can write any entry, but not a person's
 * signature).
 *
 * @example
 * ```ts
 * import { approvalsFromLog } from "./from_log.ts";
 * const { requests, approvals } = approvalsFromLog([]);
 * requests.size + approvals.size; // 0
 * ```
 * @module
 */
import { ACTION } from "../audit/actions.ts";
import { type Approval, type ChangeRequest, type ParamValue, requestHash } from "./request.ts";
import { APPROVAL_DOMAIN, REQUEST_DOMAIN, verifyDocument } from "./signed.ts";

/** An audit entry's fields, as read back. */
type Entry = Record<string, unknown>;

/** What the log proves about requests and approvals. */
export interface LoggedApprovals {
  /** Each request whose operator signature verifies, by id. */
  requests: Map<string, ChangeRequest>;
  /**
   * Per request id, the approvals whose signature verifies over that very request, by someone
   * other than its operator (neither their name nor their key), in log order.
   */
  approvals: Map<string, Approval[]>;
}

/**
 * Rebuilds and verifies every request and approval the entries hold.
 *
 * @example
 * ```ts
 * // const { requests, approvals } = approvalsFromLog(await readAuditEntries(stateDir));
 * // approvals.get("CR-20260701-a1b2c3")?.filter((a) => a.kind === "prior").length;
 * ```
 */
export function approvalsFromLog(entries: Iterable<Entry>): LoggedApprovals {
  const requests = new Map<string, ChangeRequest>();
  const approvals = new Map<string, Approval[]>();
  for (const entry of entries) {
    if (entry.action === ACTION.changeRequest) {
      const request = requestOfEntry(entry);
      if (request && !requests.has(request.id)) requests.set(request.id, request);
    }
    if (entry.action === ACTION.changeApproval) {
      const request = requests.get(String(entry.request));
      const approval = request && approvalOfEntry(entry, request);
      if (approval) approvals.set(request.id, [...approvals.get(request.id) ?? [], approval]);
    }
  }
  return { requests, approvals };
}

/**
 * The request a `change.request` entry records, if its hash and operator signature verify.
 *
 * @example
 * ```ts
 * requestOfEntry({ action: "change.request", request: "CR-20260701-a1b2c3" }); // undefined
 * ```
 */
export function requestOfEntry(entry: Entry): ChangeRequest | undefined {
  let params: Record<string, ParamValue>;
  try {
    params = JSON.parse(String(entry.params ?? "{}"));
  } catch {
    return undefined;
  }
  const request: ChangeRequest = {
    id: String(entry.request),
    runbook: String(entry.runbook),
    params,
    nodes: String(entry.nodes ?? "").split(",").filter(Boolean),
    commit: typeof entry.commit === "string" ? entry.commit : null,
    operator: String(entry.operator),
    operator_key: String(entry.operator_key),
    created: String(entry.created),
    expires: String(entry.expires),
    ...(entry.emergency === true ? { emergency: String(entry.reason ?? "") } : {}),
  };
  if (requestHash(request) !== entry.request_hash) return undefined;
  const signed = verifyDocument(
    REQUEST_DOMAIN,
    request,
    String(entry.signature),
    request.operator_key,
  );
  return signed ? request : undefined;
}

function approvalOfEntry(entry: Entry, request: ChangeRequest): Approval | undefined {
  const approval: Approval = {
    request: request.id,
    request_hash: String(entry.request_hash),
    approver: String(entry.approver),
    approver_key: String(entry.approver_key),
    kind: entry.kind === "retro" ? "retro" : "prior",
    at: String(entry.approved_at),
  };
  if (entry.kind !== approval.kind || approval.request_hash !== requestHash(request)) return;
  if (approval.approver === request.operator || approval.approver_key === request.operator_key) {
    return;
  }
  const signed = verifyDocument(
    APPROVAL_DOMAIN,
    approval,
    String(entry.signature),
    approval.approver_key,
  );
  return signed ? approval : undefined;
}
