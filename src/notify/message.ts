/**
 * What a notification says, built from the audit entry it reports (pure). Every message
 * carries the audit seq and entry hash, so the chat history is itself evidence that can be
 * checked against the log. Only named fields go in: parameters, outputs and secrets never do.
 *
 * @example
 * ```ts
 * import { messageBody, signature } from "./message.ts";
 * const message = { event: "run.succeeded" as const, status: "success", runbook: "deploy",
 *   version: "v1.2.0", nodes: ["web-1"], operator: "bob", approvers: ["alice"], run: "R1",
 *   audit_seq: 12, audit_hash: "ab".repeat(32), ts: "2026-07-01T10:00:00.000Z" };
 * const body = messageBody(message, "json");
 * signature(body, "s3cret"); // "sha256=…"
 * ```
 * @module
 */
import { ACTION } from "../audit/actions.ts";
import { createHmac } from "node:crypto";
import type { NotifyEvent } from "../config/notify.ts";

/** One notification. */
export interface NotifyMessage {
  event: NotifyEvent;
  status: string;
  ts: string;
  run?: string;
  runbook?: string;
  version?: string;
  nodes?: string[];
  operator?: string;
  approvers?: string[];
  request?: string;
  /** The control, for `control.overdue`. */
  control?: string;
  reason?: string;
  audit_seq?: number;
  audit_hash?: string;
}

/** What the run is, known before its entries are written. */
export interface RunContext {
  runbook?: string;
  version?: string;
  nodes?: string[];
  operator?: string;
  approvers?: string[];
}

type Entry = Record<string, string | number | boolean>;

/**
 * The event an audit entry reports, if any. Only the run as a whole counts (`topRun`): a
 * node's own run inside a rollout (`RUN@web-1`) and the failure path do not notify.
 *
 * @example
 * ```ts
 * eventOf({ action: "rollout", status: "failure", run: "R1" }, "R1"); // "run.failed"
 * eventOf({ action: "run", status: "success", run: "R1@web-1" }, "R1"); // undefined
 * ```
 */
export function eventOf(entry: Entry, topRun: string | undefined): NotifyEvent | undefined {
  const { action, status } = entry;
  if (action === ACTION.changeRequest) return "request.created";
  if (action === ACTION.changeApproval) return "approval.given";
  if (action === ACTION.drill && status !== "initiated") return "drill.finished";
  if (action !== ACTION.run && action !== ACTION.rollout) return undefined;
  // A drill's runbook run is part of the drill, reported once as drill.finished.
  if (entry.run !== topRun || entry.drill === true) return undefined;
  return ({
    initiated: "run.started",
    success: "run.succeeded",
    failure: "run.failed",
    aborted: "run.aborted",
  } as Record<string, NotifyEvent>)[String(status)];
}

/**
 * The message for an entry, its seq and hash.
 *
 * @example
 * ```ts
 * const m = messageFor("run.started", { action: "run", run: "R1", status: "initiated",
 *   seq: 3, ts: "2026-07-01T10:00:00.000Z", user: "bob" }, "ab".repeat(32), { runbook: "deploy" });
 * m.audit_seq; // 3
 * ```
 */
export function messageFor(
  event: NotifyEvent,
  entry: Entry,
  hash: string,
  context: RunContext,
): NotifyMessage {
  const text = (key: string) => typeof entry[key] === "string" ? String(entry[key]) : undefined;
  const list = (key: string) => text(key)?.split(",").filter(Boolean);
  return {
    event,
    status: String(entry.status),
    ts: String(entry.ts),
    run: text("run"),
    runbook: text("runbook") ?? context.runbook,
    version: context.version,
    nodes: context.nodes ?? list("nodes"),
    operator: text("operator") ?? context.operator ?? text("user"),
    approvers: event === "approval.given" ? list("approver") : context.approvers,
    request: text("request"),
    reason: text("reason"),
    audit_seq: Number(entry.seq),
    audit_hash: hash,
  };
}

/**
 * The HTTP body: the message itself (`json`) or a Slack-compatible `{ text }` (`slack`).
 *
 * @example
 * ```ts
 * JSON.parse(messageBody({ event: "run.failed", status: "failure", ts: "t" }, "slack")).text;
 * // "*run.failed* — status failure"
 * ```
 */
export function messageBody(message: NotifyMessage, format: "slack" | "json"): string {
  if (format === "json") return JSON.stringify(message);
  return JSON.stringify({ text: slackText(message) });
}

function slackText(m: NotifyMessage): string {
  const what = [
    m.runbook,
    m.version,
    m.control && `control ${m.control}`,
    m.nodes?.length ? `on ${m.nodes.join(", ")}` : undefined,
  ].filter(Boolean).join(" ");
  const who = [
    m.operator && `by ${m.operator}`,
    m.approvers?.length ? `approved by ${m.approvers.join(", ")}` : undefined,
  ].filter(Boolean).join(", ");
  const proof = [
    m.run && `run ${m.run}`,
    m.request && `request ${m.request}`,
    m.audit_seq !== undefined && `audit seq ${m.audit_seq} sha256 ${m.audit_hash}`,
  ].filter(Boolean).join(" · ");
  return [
    `*${m.event}*${what ? ` ${what}` : ""} — status ${m.status}${who ? ` ${who}` : ""}`,
    m.reason ? `reason: ${m.reason}` : "",
    proof,
  ].filter(Boolean).join("\n");
}

/**
 * The signature header's value: `sha256=` + hex HMAC-SHA256 of the body with the shared secret.
 *
 * @example
 * ```ts
 * signature("{}", "k").startsWith("sha256="); // true
 * ```
 */
export function signature(body: string, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}
