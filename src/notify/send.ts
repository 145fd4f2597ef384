/**
 * Delivering one message to one webhook over HTTP, with retries and a timeout per try.
 *
 * @example
 * ```ts
 * import { deliver } from "./send.ts";
 * // const result = await deliver(webhook, body, secret);
 * // if (!result.ok) console.error(result.error);
 * ```
 * @module
 */
import type { Webhook } from "../config/notify.ts";
import { signature } from "./message.ts";

/** How a delivery ended. */
export interface Delivery {
  ok: boolean;
  attempts: number;
  /** The last failure, without the URL (which may hold a secret). */
  error?: string;
}

/** Waits before try `n` (from 2): 200 ms, 400 ms, 800 ms… */
export function backoffMs(attempt: number): number {
  return 100 * 2 ** (attempt - 1);
}

/**
 * Posts `body` until the webhook answers 2xx or `webhook.attempts` tries are used up. Never
 * throws: a failed notification must not fail what it reports.
 *
 * @example
 * ```ts
 * // await deliver({ url: "http://127.0.0.1:9/x", format: "json", attempts: 2, timeout: 1,
 * //   signature_header: "X-Protocol-Signature-256" }, "{}", undefined);
 * ```
 */
export async function deliver(
  webhook: Pick<Webhook, "url" | "attempts" | "timeout" | "signature_header">,
  body: string,
  secret: string | undefined,
): Promise<Delivery> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "protocol-notify/1",
  };
  if (secret) headers[webhook.signature_header] = signature(body, secret);
  let error = "";
  for (let attempt = 1; attempt <= webhook.attempts; attempt++) {
    if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt)));
    try {
      const response = await fetch(webhook.url, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(webhook.timeout * 1000),
      });
      await response.body?.cancel();
      if (response.ok) return { ok: true, attempts: attempt };
      error = `HTTP ${response.status}`;
    } catch (cause) {
      error = describe(cause);
    }
  }
  return { ok: false, attempts: webhook.attempts, error };
}

function describe(cause: unknown): string {
  if (cause instanceof DOMException && cause.name === "TimeoutError") return "timed out";
  const message = cause instanceof Error ? cause.message : String(cause);
  // fetch errors quote the URL; a Slack URL is a credential.
  return message.replace(/https?:\/\/\S+/g, "<url>").split("\n")[0].slice(0, 200);
}
