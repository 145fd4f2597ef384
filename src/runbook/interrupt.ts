/**
 * One path for everything that stops a run from outside: SIGINT, SIGTERM, SIGHUP and a node's
 * lost SSH connection all abort the same signal with an {@link Interruption} as its reason.
 * The run then stops its running step, starts nothing further, undoes what a node changed
 * without passing its success criteria (under {@link Interrupter.cleanup}, which only a second
 * signal aborts), releases its locks and prints the abort summary.
 *
 * @example
 * ```ts
 * import { Interrupter } from "./interrupt.ts";
 * const interrupter = new Interrupter();
 * const stop = interrupter.listen();
 * try {
 *   // await runRollout(loaded, { ...options, interrupter });
 * } finally {
 *   stop();
 * }
 * ```
 * @module
 */
import type { Interruption } from "../state/runs.ts";

/** The signals that interrupt a run (closing the terminal sends SIGHUP). */
export const INTERRUPT_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** The run's stop signal, and the signal cleanup (rollback, lock release) runs under. */
export class Interrupter {
  readonly #run = new AbortController();
  readonly #cleanup = new AbortController();

  /** Aborted by the first interruption: the run stops. */
  get signal(): AbortSignal {
    return this.#run.signal;
  }

  /** Aborted by a second signal: the cleanup after an interruption stops too. */
  get cleanup(): AbortSignal {
    return this.#cleanup.signal;
  }

  /** What interrupted the run, once something did. */
  get interruption(): Interruption | undefined {
    return interruptionOf(this.#run.signal);
  }

  /** Interrupts the run; a second signal also interrupts its cleanup. */
  interrupt(interruption: Interruption): void {
    if (!this.#run.signal.aborted) this.#run.abort(interruption);
    else if (interruption.kind === "signal") this.#cleanup.abort(interruption);
  }

  /** Listens for {@link INTERRUPT_SIGNALS}; returns the function that stops listening. */
  listen(signals: readonly Deno.Signal[] = INTERRUPT_SIGNALS): () => void {
    const handlers = signals.map((signal) => {
      const handler = () => this.interrupt({ kind: "signal", what: signal });
      Deno.addSignalListener(signal, handler);
      return [signal, handler] as const;
    });
    return () =>
      handlers.forEach(([signal, handler]) => Deno.removeSignalListener(signal, handler));
  }
}

/**
 * The interruption an aborted signal carries (a plain abort reads as an interrupt).
 *
 * @example
 * ```ts
 * import { interruptionOf } from "./interrupt.ts";
 * const controller = new AbortController();
 * controller.abort();
 * interruptionOf(controller.signal); // { kind: "signal", what: "interrupt" }
 * ```
 */
export function interruptionOf(signal?: AbortSignal): Interruption | undefined {
  if (!signal?.aborted) return undefined;
  const reason = signal.reason as Partial<Interruption> | undefined;
  if (reason && (reason.kind === "signal" || reason.kind === "connection") && reason.what) {
    return reason as Interruption;
  }
  return { kind: "signal", what: "interrupt" };
}

/**
 * An interruption in words, for reasons and summaries.
 *
 * @example
 * ```ts
 * import { describeInterruption } from "./interrupt.ts";
 * describeInterruption({ kind: "signal", what: "SIGHUP" }); // "interrupted (SIGHUP)"
 * describeInterruption({ kind: "connection", what: "web-2" }); // "connection to web-2 lost"
 * ```
 */
export function describeInterruption(interruption: Interruption): string {
  if (interruption.kind === "connection") {
    return `connection to ${interruption.what} lost${
      interruption.detail ? ` (${interruption.detail})` : ""
    }`;
  }
  return interruption.what === "interrupt" ? "interrupted" : `interrupted (${interruption.what})`;
}
