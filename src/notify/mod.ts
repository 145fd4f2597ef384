/**
 * Notifications that are evidence: webhooks (Slack-compatible or generic JSON, optionally
 * HMAC-signed) told about requests, approvals, runs, drills and overdue controls, each message
 * carrying the audit seq and entry hash it reports.
 *
 * @example
 * ```ts
 * import { notifierFor, notifyingJournal } from "./mod.ts";
 * // const notifier = await notifierFor(config, stateDir);
 * // const journal = notifyingJournal(stateDir, notifier, { runbook: "deploy" });
 * // ... run ...; await notifier.flush();
 * ```
 * @module
 */
export {
  eventOf,
  messageBody,
  messageFor,
  type NotifyMessage,
  type RunContext,
  signature,
} from "./message.ts";
export { backoffMs, deliver, type Delivery } from "./send.ts";
export {
  entryHash,
  Notifier,
  notifierFor,
  type NotifyFailure,
  notifyingJournal,
  type ReadyWebhook,
  readyWebhooks,
} from "./notifier.ts";
