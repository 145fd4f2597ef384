/**
 * What every collector shares: the context it gathers facts in, the facts it returns, and the
 * outcomes that are not facts (skipped, not applicable). A collector only talks to the target
 * through `target.exec`, so the same collector works on the local machine and over SSH.
 *
 * @example
 * ```ts
 * import { type Collector, NotCollected, runOnTarget } from "./types.ts";
 * const uptime: Collector<{ kind: "uptime" }> = async (_spec, ctx) => {
 *   const out = await runOnTarget(ctx, "cat /proc/uptime");
 *   if (!out) throw new NotCollected("skip", "no /proc/uptime");
 *   return { seconds: Number(out.split(" ")[0]) };
 * };
 * ```
 * @module
 */
import type { z } from "../../source/zod.ts";
import type { Config } from "../../config/mod.ts";
import { type ExecResult, OUTPUT_LIMIT, type Target } from "../../targets/target.ts";

/** Facts about a target: a flat-ish record; list collectors put their rows in `items`. */
export type Facts = Record<string, unknown>;

/** Where and with what a collector gathers. */
export interface CollectContext {
  target: Target;
  /** The state directory as seen on the target (its encryption key). */
  stateDir: string;
  /**
   * This machine's state directory, where the audit log of every action on every target is
   * kept (the tool is agentless: nodes keep no log of their own). Default: `stateDir`.
   */
  auditStateDir?: string;
  /** The project configuration, when there is one. */
  config?: Config;
  signal?: AbortSignal;
}

/** Gathers facts for one rendered collector spec. */
export type Collector<Spec> = (spec: Spec, ctx: CollectContext) => Promise<Facts>;

/** The zod schema of a collector's spec: a strict object whose `kind` literal names it. */
export type KindSpec = z.ZodObject<{ kind: z.ZodLiteral<string> } & z.ZodRawShape>;

/** A collector with the spec it reads: what the registry in `mod.ts` lists, one entry each. */
export type RegisteredCollector<Spec extends KindSpec> = Collector<z.output<Spec>> & {
  readonly spec: Spec;
};

/**
 * Ties a collector to its spec, so the registry (`COLLECTORS` in `mod.ts`) needs one entry and
 * the policy schema, the JSON Schema and dispatch by `kind` all follow from it. The result is
 * still the collector function.
 *
 * @example
 * ```ts
 * import { z } from "../../source/zod.ts";
 * import { defineCollector, runOnTarget } from "./types.ts";
 * export const uptime = defineCollector(
 *   z.strictObject({ kind: z.literal("uptime") }),
 *   async (_spec, ctx) => ({ seconds: Number((await runOnTarget(ctx, "cat /proc/uptime")).split(" ")[0]) }),
 * );
 * uptime.spec.shape.kind.value; // "uptime"
 * ```
 */
export function defineCollector<Spec extends KindSpec>(
  spec: Spec,
  collect: Collector<z.output<Spec>>,
): RegisteredCollector<Spec> {
  return Object.assign(collect, { spec });
}

/** A collector that could not or need not gather: the check becomes `skip` or `not_applicable`. */
export class NotCollected extends Error {
  constructor(readonly status: "skip" | "not_applicable" | "error", message: string) {
    super(message);
    this.name = "NotCollected";
  }
}

/** Facts gathering takes this long at most per command; a hung `ps` must not hang the audit. */
export const COLLECT_TIMEOUT_MS = 120_000;

/**
 * Runs a script on the target; returns the whole result so callers can read exit codes. Output
 * cut at the target's limit is an error (a check judged on part of its facts would pass what it
 * never saw); `tooMuch` says how to narrow the command.
 */
export async function execOnTarget(
  ctx: CollectContext,
  script: string,
  tooMuch = "narrow what the check collects",
): Promise<ExecResult> {
  const result = await ctx.target.exec({
    script,
    timeoutMs: COLLECT_TIMEOUT_MS,
    signal: ctx.signal,
    env: { LC_ALL: "C" },
  });
  if (result.timedOut) throw new NotCollected("error", `timed out: ${firstLine(script)}`);
  if (result.aborted) throw new NotCollected("error", "interrupted");
  if (result.cut?.stdout) {
    const limit = `${OUTPUT_LIMIT >> 20} MiB`;
    throw new NotCollected(
      "error",
      `\`${firstLine(script)}\` printed more than the ${limit} of output a check can judge ` +
        `(${result.cut.stdout} bytes more); ${tooMuch}`,
    );
  }
  return result;
}

/** Runs a script that must succeed and returns its stdout; an error names stderr. */
export async function runOnTarget(ctx: CollectContext, script: string): Promise<string> {
  const result = await execOnTarget(ctx, script);
  if (result.code !== 0) {
    throw new NotCollected(
      "error",
      `\`${firstLine(script)}\` exited ${result.code}: ${result.stderr.trim().slice(0, 300)}`,
    );
  }
  return result.stdout;
}

function firstLine(script: string): string {
  const line = script.split("\n")[0];
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}
