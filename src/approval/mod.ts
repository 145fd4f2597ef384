/**
 * Segregation of duties: personal identities, the approvers file, signed change requests and
 * approvals, the approval gate a run passes before anything runs, and the retro-reviews that
 * emergency changes owe.
 *
 * @example
 * ```ts
 * import { checkApproval, loadApprovers, readRequestFile } from "./mod.ts";
 * // const file = await readRequestFile(stateDir, id);
 * // const verdict = checkApproval({ request: file, approvals: file.approvals,
 * //   approvers: await loadApprovers("approvers.yaml"), about, policy, now: new Date() });
 * ```
 * @module
 */
export {
  type Approver,
  ApproversSchema,
  gitBlobId,
  loadApprovers,
  loadApproversFile,
  parseApprovers,
  type Role,
  ROLES,
} from "./approvers.ts";
export {
  type AboutToRun,
  type ApprovalInput,
  type ApprovalPolicy,
  checkApproval,
  type Refusal,
  type RefusalCode,
  type Verdict,
} from "./check.ts";
export {
  createIdentity,
  type Identity,
  identityDir,
  loadIdentity,
  MissingIdentityError,
} from "./identity.ts";
export {
  type Approval,
  type ApprovalKind,
  approveRequest,
  type ChangeRequest,
  checkRequestId,
  DEFAULT_EXPIRY_MS,
  newRequest,
  parseExpiry,
  requestHash,
  type SignedApproval,
  type SignedRequest,
  signRequest,
} from "./request.ts";
export {
  addBusinessDays,
  formatRetroReviews,
  RETRO_REVIEW_BUSINESS_DAYS,
  retroDue,
  type RetroReview,
  retroReviews,
  type RetroStatus,
} from "./retro.ts";
export {
  approvalEntry,
  readRequestFile,
  requestEntry,
  type RequestFile,
  requestPath,
  saveRequestFile,
  UnknownRequestError,
} from "./store.ts";
export { personKeyId, publicKeyText, verifyDocument } from "./signed.ts";
export { approvalsFromLog, type LoggedApprovals, requestOfEntry } from "./from_log.ts";
export { resumeChain, runsUnderRequest, type RunUnderRequest } from "./used.ts";
export {
  approvalChecklistItem,
  type ApprovalRequirement,
  requestCommand,
  type RequestParam,
  whoApproves,
} from "./requirement.ts";
