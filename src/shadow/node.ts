/**
 * The building blocks every shadow operation is made of, each running scripts of `scripts.ts`
 * on the node: run a script (a non-zero exit becomes a {@link ShadowFailure}), read the state,
 * start a slot and wait for its health, and switch new connections from one slot to another.
 *
 * @example
 * ```ts
 * import { readState } from "./node.ts";
 * // const state = await readState({ target, settings }, true);
 * // console.log(state.proxy.running, state.slots.map((slot) => slot.role));
 * ```
 * @module
 */
import { FailureError } from "../errors.ts";
import type { Target } from "../targets/target.ts";
import {
  adoptCandidateScript,
  probeHost,
  type Slot,
  slotFiles,
  startSlotScript,
  stateScript,
  stopSlotScript,
  type SwitchRecord,
  switchScript,
  waitHealthyScript,
} from "./scripts.ts";
import type { ShadowSettings } from "./settings.ts";
import { parseShadowState, type ShadowState, slotIn } from "./state.ts";

/** What an operation needs: where it runs, the node's settings, and where to say what it does. */
export interface ShadowContext {
  target: Target;
  settings: ShadowSettings;
  signal?: AbortSignal;
  say?: (line: string) => void;
  /** Who runs the operation and in which run: the release record's `deploys.log` line. */
  operator?: string;
  run?: string;
}

/** How an operation went, for the report and the audit entry. */
export interface ShadowOutcome {
  /** The live release before, and the release the operation made (or checked) live. */
  from?: string;
  to?: string;
  slot?: Slot;
  port?: number;
  /** How long the switch itself took (start, rollback). */
  switchMs?: number;
  message: string;
  state?: ShadowState;
}

/** An operation could not be done; the message says why and what was left untouched. */
export class ShadowFailure extends FailureError {
  constructor(
    message: string,
    readonly from?: string,
    readonly to?: string,
    readonly state?: ShadowState,
  ) {
    super(message);
    this.name = "ShadowFailure";
  }
}

/** Seconds a slot that was healthy must still answer right before a switch. */
const RECHECK_SECONDS = 5;
/** Seconds the live port has to answer through the proxy after a switch. */
const VERIFY_SECONDS = 10;

/** Runs a script; its output lines are said, a non-zero exit becomes a {@link ShadowFailure}. */
export async function sh(
  context: ShadowContext,
  script: string,
  what: string,
  timeoutMs = 30_000,
): Promise<string> {
  const result = await context.target.exec({ script, timeoutMs, signal: context.signal });
  for (const line of result.stdout.trim().split("\n")) if (line) context.say?.(line);
  if (result.code === 0) return result.stdout;
  const why = result.timedOut
    ? `timed out after ${timeoutMs / 1000} s`
    : result.aborted
    ? "interrupted"
    : (result.stderr.trim() || result.stdout.trim() || `exit ${result.code}`).split("\n")
      .slice(-6).join(" | ");
  throw new ShadowFailure(`${what}: ${why}`);
}

/** Reads the node's shadow state; with `health`, asks every running slot and the proxy. */
export async function readState(context: ShadowContext, health = false): Promise<ShadowState> {
  const result = await context.target.exec({
    script: stateScript(context.settings, health),
    timeoutMs: 30_000,
    signal: context.signal,
  });
  if (result.code !== 0) {
    throw new ShadowFailure(`cannot read the shadow state: ${result.stderr.trim()}`);
  }
  return parseShadowState(result.stdout);
}

/** Fails unless the node is initialized (and, with `proxy`, its proxy runs). */
export function requireReady(state: ShadowState, proxy: boolean): void {
  if (!state.initialized) throw new ShadowFailure("not initialized: run shadow:init first");
  if (!state.socat) throw new ShadowFailure("socat is not installed on this node");
  if (proxy && !state.proxy.running) {
    throw new ShadowFailure("the front proxy is not running: run shadow:init to start it");
  }
}

/**
 * Starts `version` in `slot` and waits for its health; stops it again if it never gets there.
 * As a `candidate` (a build), it starts next to what the slot runs (the standby), which is
 * stopped and replaced only once the candidate is healthy: a failed build leaves it as it was.
 */
export async function startSlot(
  context: ShadowContext,
  state: ShadowState,
  slot: Slot,
  version: string,
  candidate = false,
): Promise<number> {
  const { settings } = context;
  const ports = state.slots.filter((s) => candidate || s.slot !== slot).map((s) => s.port);
  const exclude = [settings.livePort, ...ports.filter((p): p is number => p !== undefined)];
  const files = slotFiles(slot, candidate);
  await sh(context, stopSlotScript(settings, files), `stopping ${files}`);
  const out = await sh(
    context,
    startSlotScript(settings, slot, version, exclude, candidate),
    `starting ${version} in ${slot}`,
  );
  const port = Number(/^port=(\d+)$/m.exec(out)?.[1]);
  try {
    await sh(
      context,
      waitHealthyScript(settings, {
        host: "127.0.0.1",
        port,
        seconds: settings.healthTimeout,
        slot: files,
      }),
      `${version} in ${slot} is not healthy`,
      (settings.healthTimeout + 30) * 1000,
    );
  } catch (error) {
    // A candidate that never got healthy leaves nothing but its log behind.
    const forget = candidate ? `\nrm -f ${files}.version ${files}.port` : "";
    await sh(context, stopSlotScript(settings, files) + forget, `stopping ${files}`)
      .catch(() => {});
    throw error;
  }
  if (candidate) await sh(context, adoptCandidateScript(settings, slot), `replacing ${slot}`);
  return port;
}

/** Health of the live port through the proxy, after a switch. */
export function verifyLive(context: ShadowContext): Promise<string> {
  const { settings } = context;
  return sh(
    context,
    waitHealthyScript(settings, {
      host: probeHost(settings),
      port: settings.livePort,
      seconds: VERIFY_SECONDS,
    }),
    `the live port ${settings.livePort} is not healthy after the switch`,
    (VERIFY_SECONDS + 30) * 1000,
  );
}

/** Switches new connections to `to`, then checks the live port through the proxy. */
export async function switchTo(
  context: ShadowContext,
  to: { slot: Slot; port: number; version: string },
  from: { slot: Slot; port: number; version: string } | undefined,
  standbyBefore: Slot | undefined,
  kind: SwitchRecord["kind"],
): Promise<number> {
  const { settings } = context;
  const record = (kind: SwitchRecord["kind"]) => ({
    kind,
    operator: context.operator ?? "",
    run: context.run ?? "",
  });
  await sh(
    context,
    waitHealthyScript(settings, {
      host: "127.0.0.1",
      port: to.port,
      seconds: RECHECK_SECONDS,
      slot: to.slot,
    }),
    `${to.version} in ${to.slot} is not healthy now; nothing was switched`,
  );
  const started = performance.now();
  await sh(
    context,
    switchScript(settings.appDir, {
      port: to.port,
      version: to.version,
      standby: from?.slot,
      record: record(kind),
    }),
    "switch",
  );
  const switchMs = Math.round(performance.now() - started);
  try {
    await verifyLive(context);
  } catch (error) {
    if (!from) throw error;
    // The old release still runs: put it back rather than leave a broken live port.
    await sh(
      context,
      switchScript(settings.appDir, {
        port: from.port,
        version: from.version,
        standby: standbyBefore,
        record: record("shadow-rollback"),
      }),
      "switching back",
    );
    throw new ShadowFailure(`${(error as Error).message}; switched back to ${from.version}`);
  }
  return switchMs;
}

/** The slot in `role`, when it has a release and a port. */
export function slotRef(state: ShadowState, role: "live" | "shadow" | "standby") {
  const slot = slotIn(state, role);
  return slot?.port && slot.version
    ? { slot: slot.slot, port: slot.port, version: slot.version, running: slot.running }
    : undefined;
}
