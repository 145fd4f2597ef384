/**
 * Change requests and approvals as signed documents.
 *
 * A request binds exactly what will run — runbook, parameters, target nodes, the tag's commit —
 * to the operator who asked and an expiry, signed with the operator's personal key. An approval
 * names the request by id and by the hash of its canonical form, so it approves those bytes and
 * nothing else: change a parameter and every approval stops matching.
 *
 * @example
 * ```ts
 * import { generateKeyPairSync } from "node:crypto";
 * import { approveRequest, newRequest, signRequest } from "./request.ts";
 * import { publicKeyText } from "./signed.ts";
 * const op = generateKeyPairSync("ed25519");
 * const request = newRequest({ runbook: "deploy", params: { version: "v1.2.0" }, nodes: ["web-1"],
 *   commit: "a".repeat(40), operator: "bob@example.com", operatorKey: publicKeyText(op.publicKey) },
 *   new Date());
 * const signed = signRequest(request, op.privateKey);
 * ```
 * @module
 */
import type { KeyObject } from "node:crypto";
import { InputError } from "../errors.ts";
import { APPROVAL_DOMAIN, documentHash, REQUEST_DOMAIN, signDocument } from "./signed.ts";

/** A parameter value as runbooks bind them. */
export type ParamValue = string | number | boolean;

/** What an operator asks to run; every field is covered by the operator's signature. */
export interface ChangeRequest {
  id: string;
  runbook: string;
  params: Record<string, ParamValue>;
  /** Target node names, sorted. */
  nodes: string[];
  /** The commit the release tag points to; null when the runbook deploys no tag. */
  commit: string | null;
  /** The operator's identity name and public key. */
  operator: string;
  operator_key: string;
  created: string;
  expires: string;
  /** Set for an emergency change: why it could not wait for approval. */
  emergency?: string;
}

/** A request with its operator's signature (base64 Ed25519). */
export interface SignedRequest {
  request: ChangeRequest;
  signature: string;
}

/** `prior`: given before the run; `retro`: the review an emergency change owes afterwards. */
export type ApprovalKind = "prior" | "retro";

/** One person's approval of one exact request. */
export interface Approval {
  request: string;
  /** {@link requestHash} of the request approved. */
  request_hash: string;
  approver: string;
  approver_key: string;
  kind: ApprovalKind;
  at: string;
}

/** An approval with its approver's signature. */
export interface SignedApproval {
  approval: Approval;
  signature: string;
}

/** The default life of a request: a day. */
export const DEFAULT_EXPIRY_MS = 24 * 3_600_000;

const ID = /^CR-\d{8}-[0-9a-f]{6}$/;

/**
 * A fresh request id: `CR-` + the UTC date + 6 random hex digits.
 *
 * @example
 * ```ts
 * newRequestId(new Date("2026-07-01T10:00:00Z")).startsWith("CR-20260701-"); // true
 * ```
 */
export function newRequestId(now: Date): string {
  const date = now.toISOString().slice(0, 10).replaceAll("-", "");
  const random = crypto.getRandomValues(new Uint8Array(3));
  return `CR-${date}-${[...random].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * Checks a request id given on the command line (it becomes a file name).
 *
 * @example
 * ```ts
 * checkRequestId("CR-20260701-a1b2c3"); // ok
 * checkRequestId("../x"); // throws InputError
 * ```
 */
export function checkRequestId(id: string): string {
  if (!ID.test(id)) {
    throw new InputError(`a change request id looks like CR-20260701-a1b2c3, got "${id}"`);
  }
  return id;
}

/** What a new request is made of. */
export interface RequestInput {
  runbook: string;
  params: Record<string, ParamValue>;
  nodes: string[];
  commit: string | null;
  operator: string;
  operatorKey: string;
  expiresInMs?: number;
  emergency?: string;
}

/**
 * Builds a request (pure apart from its random id).
 *
 * @example
 * ```ts
 * const r = newRequest({ runbook: "deploy", params: {}, nodes: ["b", "a"], commit: null,
 *   operator: "bob", operatorKey: "ed25519:..." }, new Date("2026-07-01T10:00:00Z"));
 * r.nodes; // ["a", "b"]
 * r.expires; // "2026-07-02T10:00:00.000Z"
 * ```
 */
export function newRequest(input: RequestInput, now: Date): ChangeRequest {
  const expires = new Date(now.getTime() + (input.expiresInMs ?? DEFAULT_EXPIRY_MS));
  return {
    id: newRequestId(now),
    runbook: input.runbook,
    params: { ...input.params },
    nodes: [...new Set(input.nodes)].sort(),
    commit: input.commit,
    operator: input.operator,
    operator_key: input.operatorKey,
    created: now.toISOString(),
    expires: expires.toISOString(),
    ...(input.emergency === undefined ? {} : { emergency: input.emergency }),
  };
}

/**
 * The hash an approval names: SHA-256 of the request's canonical JSON.
 *
 * @example
 * ```ts
 * // requestHash(signed.request) === approval.request_hash
 * ```
 */
export function requestHash(request: ChangeRequest): string {
  return documentHash(request);
}

/**
 * Signs a request with the operator's private key.
 *
 * @example
 * ```ts
 * // const signed = signRequest(request, me.privateKey);
 * ```
 */
export function signRequest(request: ChangeRequest, key: KeyObject): SignedRequest {
  return { request, signature: signDocument(REQUEST_DOMAIN, request, key) };
}

/**
 * An approval of `request` by the person holding `key`, signed.
 *
 * @example
 * ```ts
 * // const approval = approveRequest(signed.request, alice, "prior", new Date());
 * ```
 */
export function approveRequest(
  request: ChangeRequest,
  approver: { name: string; publicKey: string; privateKey: KeyObject },
  kind: ApprovalKind,
  now: Date,
): SignedApproval {
  const approval: Approval = {
    request: request.id,
    request_hash: requestHash(request),
    approver: approver.name,
    approver_key: approver.publicKey,
    kind,
    at: now.toISOString(),
  };
  return { approval, signature: signDocument(APPROVAL_DOMAIN, approval, approver.privateKey) };
}

/**
 * Parses a duration for `--expires`: `30m`, `4h`, `2d`.
 *
 * @example
 * ```ts
 * parseExpiry("4h"); // 14400000
 * ```
 */
export function parseExpiry(text: string): number {
  const match = /^(\d+)(m|h|d)$/.exec(text);
  if (!match || Number(match[1]) === 0) {
    throw new InputError(`--expires expects a duration such as 30m, 4h or 2d, got "${text}"`);
  }
  return Number(match[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "m"];
}
