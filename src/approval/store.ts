/**
 * Where requests and their approvals are kept between `request`, `approve` and `run`:
 * `<stateDir>/requests/<id>.json`. The file is a convenience; the signatures make it
 * trustworthy (an edited file fails verification) and the audit entries are the record.
 *
 * @example
 * ```ts
 * import { readRequestFile, saveRequestFile } from "./store.ts";
 * // await saveRequestFile(stateDir, { ...signed, approvals: [] });
 * // const file = await readRequestFile(stateDir, "CR-20260701-a1b2c3");
 * ```
 * @module
 */
import { ACTION } from "../audit/actions.ts";
import { join } from "node:path";
import type { JournalFields } from "../journal.ts";
import { FailureError } from "../errors.ts";
import { readOrRefuse } from "./read.ts";
import { checkRequestId, requestHash, type SignedApproval, type SignedRequest } from "./request.ts";

/** A request as stored: the signed request and every approval given so far. */
export interface RequestFile extends SignedRequest {
  approvals: SignedApproval[];
}

/** No request by that id in the state directory. */
export class UnknownRequestError extends FailureError {}

/**
 * The path of a request's file.
 *
 * @example
 * ```ts
 * requestPath("/srv/state", "CR-20260701-a1b2c3"); // "/srv/state/requests/CR-20260701-a1b2c3.json"
 * ```
 */
export function requestPath(stateDir: string, id: string): string {
  return join(stateDir, "requests", `${checkRequestId(id)}.json`);
}

/**
 * Writes a request file atomically (a reader never sees half of it).
 *
 * @example
 * ```ts
 * // await saveRequestFile("/srv/state", { request, signature, approvals: [] });
 * ```
 */
export async function saveRequestFile(stateDir: string, file: RequestFile): Promise<string> {
  const path = requestPath(stateDir, file.request.id);
  await Deno.mkdir(join(stateDir, "requests"), { recursive: true, mode: 0o700 });
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(temp, JSON.stringify(file, null, 2) + "\n", { mode: 0o600 });
  await Deno.rename(temp, path);
  return path;
}

/**
 * Reads a request file; {@link UnknownRequestError} when there is none.
 *
 * @example
 * ```ts
 * // const { request, approvals } = await readRequestFile("/srv/state", id);
 * ```
 */
export async function readRequestFile(stateDir: string, id: string): Promise<RequestFile> {
  const text = await readOrRefuse(
    requestPath(stateDir, id),
    (path) => new UnknownRequestError(`no change request ${id} (looked for ${path})`),
  );
  return JSON.parse(text) as RequestFile;
}

/**
 * The audit entry of a new request (flat fields: parameters as JSON, nodes comma-separated).
 *
 * @example
 * ```ts
 * // await journal.record(requestEntry(signed));
 * ```
 */
export function requestEntry(signed: SignedRequest): JournalFields {
  const r = signed.request;
  return {
    action: ACTION.changeRequest,
    request: r.id,
    runbook: r.runbook,
    params: JSON.stringify(r.params),
    nodes: r.nodes.join(","),
    commit: r.commit ?? undefined,
    operator: r.operator,
    operator_key: r.operator_key,
    // With `created`, every field the operator signed is in the entry: the log alone verifies it.
    created: r.created,
    expires: r.expires,
    emergency: r.emergency === undefined ? undefined : true,
    reason: r.emergency,
    request_hash: requestHash(r),
    signature: signed.signature,
    status: "success",
  };
}

/**
 * The audit entry of an approval.
 *
 * @example
 * ```ts
 * // await journal.record(approvalEntry(approval));
 * ```
 */
export function approvalEntry(signed: SignedApproval): JournalFields {
  const a = signed.approval;
  return {
    action: ACTION.changeApproval,
    request: a.request,
    request_hash: a.request_hash,
    approver: a.approver,
    approver_key: a.approver_key,
    kind: a.kind,
    // With the time it was signed, every field the approver signed is in the entry.
    approved_at: a.at,
    signature: signed.signature,
    status: "success",
  };
}
