/**
 * The notifier: sends messages off the critical path (a run never waits for a webhook), retries,
 * and records each delivery that finally failed in the audit log as `notify.failed` — the
 * failure is evidence too, and it never fails the run it reports.
 *
 * @example
 * ```ts
 * import { Notifier, notifyingJournal } from "./notifier.ts";
 * const notifier = new Notifier([], async () => {});
 * const journal = notifyingJournal("/tmp/state", notifier, { runbook: "deploy" });
 * // await journal.record({ action: "run", run: "R1", status: "initiated" });
 * await notifier.flush();
 * ```
 * @module
 */
import { ACTION } from "../audit/actions.ts";
import { createHash } from "node:crypto";
import { dirname, resolve } from "node:path";
import { appendAudit } from "../audit/append.ts";
import type { AuditEntry } from "../audit/entry.ts";
import { toJsonlLine } from "../audit/format.ts";
import { type Config, ConfigError } from "../config/mod.ts";
import type { Webhook } from "../config/notify.ts";
import type { Journal } from "../journal.ts";
import {
  eventOf,
  messageBody,
  messageFor,
  type NotifyMessage,
  type RunContext,
} from "./message.ts";
import { deliver } from "./send.ts";

/** A webhook with its secret read and a name for the audit log. */
export interface ReadyWebhook extends Webhook {
  label: string;
  secret?: string;
}

/** A delivery that failed after every try. */
export interface NotifyFailure {
  webhook: string;
  message: NotifyMessage;
  attempts: number;
  error: string;
}

/** Sends messages in the background; {@link Notifier.flush} waits for them. */
export class Notifier {
  readonly #pending = new Set<Promise<void>>();

  constructor(
    readonly webhooks: readonly ReadyWebhook[],
    readonly onFailure: (failure: NotifyFailure) => Promise<void>,
  ) {}

  /** Queues `message` for every webhook that wants its event; returns at once. */
  send(message: NotifyMessage): void {
    for (const webhook of this.webhooks) {
      if (webhook.events && !webhook.events.includes(message.event)) continue;
      const body = messageBody(message, webhook.format);
      const sending = deliver(webhook, body, webhook.secret).then(async (delivery) => {
        if (delivery.ok) return;
        await this.onFailure({
          webhook: webhook.label,
          message,
          attempts: delivery.attempts,
          error: delivery.error ?? "failed",
        });
      }).catch(() => {}).finally(() => this.#pending.delete(sending));
      this.#pending.add(sending);
    }
  }

  /** Waits until every queued message was delivered or given up on. */
  async flush(): Promise<void> {
    while (this.#pending.size) await Promise.all([...this.#pending]);
  }
}

/**
 * The configured webhooks, secrets read up front (a secret named but missing is a
 * configuration error, exit 2, before anything runs).
 *
 * @example
 * ```ts
 * // const hooks = await readyWebhooks(config);
 * ```
 */
export async function readyWebhooks(config: Config | undefined): Promise<ReadyWebhook[]> {
  const hooks = config?.notify?.webhooks ?? [];
  const ready: ReadyWebhook[] = [];
  for (const [i, hook] of hooks.entries()) {
    const label = hook.name ?? `notify.webhooks[${i}]`;
    let secret: string | undefined;
    if (hook.secret_env) {
      secret = Deno.env.get(hook.secret_env);
      if (!secret) {
        throw new ConfigError(`${label}: secret_env ${hook.secret_env} is not set or empty`);
      }
    } else if (hook.secret_file) {
      const path = resolve(dirname(config!.file), hook.secret_file);
      secret = (await Deno.readTextFile(path).catch(() => {
        throw new ConfigError(`${label}: cannot read secret_file ${path}`);
      })).trim();
    }
    ready.push({ ...hook, label, secret });
  }
  return ready;
}

/**
 * The notifier of a command: failures become `notify.failed` audit entries in `stateDir`.
 *
 * @example
 * ```ts
 * // const notifier = await notifierFor(config, stateDir);
 * ```
 */
export async function notifierFor(
  config: Config | undefined,
  stateDir: string,
): Promise<Notifier> {
  return new Notifier(await readyWebhooks(config), async (failure) => {
    try {
      await appendAudit(stateDir, {
        action: ACTION.notifyFailed,
        webhook: failure.webhook,
        event: failure.message.event,
        run: failure.message.run,
        request: failure.message.request,
        about_seq: failure.message.audit_seq,
        attempts: failure.attempts,
        error: failure.error,
        status: "failure",
      });
    } catch (error) {
      console.error(`warning: notification failure not recorded: ${(error as Error).message}`);
    }
  });
}

/**
 * SHA-256 (hex) of an entry's line: the `prev` of the next entry.
 *
 * @example
 * ```ts
 * // entryHash(await appendAudit(dir, { action: "x" })).length; // 64
 * ```
 */
export function entryHash(entry: AuditEntry): string {
  return createHash("sha256").update(toJsonlLine(entry)).digest("hex");
}

/**
 * A journal that appends to the audit log of `stateDir` and notifies about the entries that
 * are events, each message carrying the entry's seq and hash.
 *
 * @example
 * ```ts
 * // const journal = notifyingJournal(stateDir, notifier, { runbook: "deploy", version: "v1.2.0" });
 * ```
 */
export function notifyingJournal(
  stateDir: string,
  notifier: Notifier,
  context: RunContext,
): Journal {
  let topRun: string | undefined;
  return {
    async record(fields) {
      const entry = await appendAudit(stateDir, { ...fields, action: String(fields.action) });
      // The gate knows the people: the operator's identity and who approved.
      if (entry.action === ACTION.changeCheck || entry.action === ACTION.changeRequest) {
        if (typeof entry.operator === "string") context.operator = entry.operator;
        if (typeof entry.approvers === "string") {
          context.approvers = entry.approvers.split(",").filter(Boolean);
        }
      }
      const starts = (entry.action === "run" || entry.action === "rollout") &&
        entry.status === "initiated";
      if (starts && topRun === undefined) topRun = String(entry.run);
      const event = eventOf(entry, topRun);
      if (event) notifier.send(messageFor(event, entry, entryHash(entry), context));
    },
  };
}
