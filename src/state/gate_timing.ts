/**
 * How a gate with `min_wait` went, in words: shared by the run's progress output, the evidence
 * checklist and the auditor's population, so an early acknowledgement reads the same in each.
 *
 * @example
 * ```ts
 * import { gateTimingText } from "./gate_timing.ts";
 * gateTimingText({ min_wait_ms: 900_000, waited_ms: 3_200, early: true });
 * // "acknowledged early: 3.2s after the step before it, min_wait 15m"
 * ```
 * @module
 */

/** The timing fields a step record (or its audit entry) carries for a gate with `min_wait`. */
export interface GateTimingFields {
  min_wait_ms?: number;
  waited_ms?: number;
  early?: boolean;
}

/**
 * A gate's timing as one phrase; undefined for a step without `min_wait`.
 *
 * @example
 * ```ts
 * import { gateTimingText } from "./gate_timing.ts";
 * gateTimingText({ min_wait_ms: 2_000, waited_ms: 2_600 }); // "2.6s after the step before it, min_wait 2s"
 * gateTimingText({}); // undefined
 * ```
 */
export function gateTimingText(step: GateTimingFields): string | undefined {
  if (step.min_wait_ms === undefined || step.waited_ms === undefined) return undefined;
  const phrase = `${span(step.waited_ms)} after the step before it, min_wait ${
    span(step.min_wait_ms)
  }`;
  return step.early ? `acknowledged early: ${phrase}` : phrase;
}

/**
 * A duration for people: `2.6s`, `14m 5s`, `1h 2m`, `15m`.
 *
 * @example
 * ```ts
 * import { span } from "./gate_timing.ts";
 * span(845_000); // "14m 5s"
 * span(900_000); // "15m"
 * ```
 */
export function span(ms: number): string {
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  const total = Math.round(ms / 1000);
  const [h, m, s] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  if (h) return m ? `${h}h ${m}m` : `${h}h`;
  return s ? `${m}m ${s}s` : `${m}m`;
}
