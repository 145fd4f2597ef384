/**
 * The `notify:` section of `protocol.yaml`: webhooks told about changes as they happen.
 *
 * ```yaml
 * notify:
 *   webhooks:
 *     - name: ops-chat
 *       url: https://hooks.slack.com/services/T000/B000/XXXX
 *       format: slack                 # or json (the message object as is)
 *       secret_env: OPS_WEBHOOK_KEY   # HMAC-SHA256 of the body in X-Protocol-Signature-256
 *       events: [run.failed, run.aborted, control.overdue]   # default: every event
 * ```
 *
 * @example
 * ```ts
 * import { NotifySchema } from "./notify.ts";
 * NotifySchema.parse({ webhooks: [{ url: "http://127.0.0.1:8080/hook" }] }).webhooks[0].format; // "json"
 * ```
 * @module
 */
import { z } from "../source/zod.ts";

/** Every event a webhook can be told about. */
export const NOTIFY_EVENTS = [
  "request.created",
  "approval.given",
  "run.started",
  "run.succeeded",
  "run.failed",
  "run.aborted",
  "drill.finished",
  "control.overdue",
] as const;

/** One event of {@link NOTIFY_EVENTS}. */
export type NotifyEvent = typeof NOTIFY_EVENTS[number];

/** One webhook. */
export const WebhookSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/).optional()
    .describe(
      "Names the webhook in the audit log (its URL may hold a secret and is never logged).",
    ),
  url: z.url({ protocol: /^https?$/ }),
  format: z.enum(["slack", "json"]).default("json")
    .describe("`slack`: `{text}` for Slack-compatible incoming webhooks; `json`: the message."),
  events: z.array(z.enum(NOTIFY_EVENTS)).min(1).optional().describe("Default: every event."),
  secret_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).optional().describe(
    "Environment variable holding the shared secret of the HMAC-SHA256 signature header.",
  ),
  secret_file: z.string().min(1).optional().describe("File holding that secret instead."),
  signature_header: z.string().regex(/^[A-Za-z0-9-]+$/).default("X-Protocol-Signature-256"),
  attempts: z.number().int().min(1).max(10).default(4).describe("Tries before giving up."),
  timeout: z.number().positive().max(60).default(5).describe("Seconds per try."),
});

/** The `notify:` section. */
export const NotifySchema = z.strictObject({
  webhooks: z.array(WebhookSchema).default([]),
});

/** One configured webhook. */
export type Webhook = z.infer<typeof WebhookSchema>;
