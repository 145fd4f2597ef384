/**
 * The one place shadow operations run: each reads the node's state, decides (with the pure
 * helpers of `state.ts`), and runs the scripts of `scripts.ts` on the target, in order. A
 * failure throws {@link ShadowFailure} with one sentence that says what is left as it was.
 *
 * @example
 * ```ts
 * import { performShadow } from "./execute.ts";
 * // const outcome = await performShadow({ kind: "start" }, { target, settings });
 * // console.log(outcome.from, "→", outcome.to, outcome.switchMs, "ms");
 * ```
 * @module
 */
import type { Target } from "../targets/target.ts";
import type { ShadowOperation } from "./operation.ts";
import {
  fetchReleaseScript,
  NO_SOCAT,
  prepareScript,
  probeHost,
  type Slot,
  startProxyScript,
  startSlotScript,
  stateScript,
  stopPlainAppScript,
  stopSlotScript,
  switchScript,
  waitHealthyScript,
} from "./scripts.ts";
import type { ShadowSettings } from "./settings.ts";
import {
  buildSlot,
  describeState,
  liveVersion,
  parseShadowState,
  type ShadowState,
  slotIn,
} from "./state.ts";

/** What an operation needs: where it runs, the node's settings, and where to say what it does. */
export interface ShadowContext {
  target: Target;
  settings: ShadowSettings;
  signal?: AbortSignal;
  say?: (line: string) => void;
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
export class ShadowFailure extends Error {
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

/** Runs one operation on the context's target. */
export async function performShadow(
  operation: ShadowOperation,
  context: ShadowContext,
): Promise<ShadowOutcome> {
  switch (operation.kind) {
    case "init":
      return await init(context);
    case "build":
      return await build(context, operation.version);
    case "status":
      return await status(context);
    case "start":
      return await promote(context);
    case "rollback":
      return await rollback(context);
  }
}

/** Runs a script; its output lines are said, a non-zero exit becomes a {@link ShadowFailure}. */
async function sh(
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

async function readState(context: ShadowContext, health = false): Promise<ShadowState> {
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

function requireReady(state: ShadowState, proxy: boolean): void {
  if (!state.initialized) throw new ShadowFailure("not initialized: run shadow:init first");
  if (!state.socat) throw new ShadowFailure("socat is not installed on this node");
  if (proxy && !state.proxy.running) {
    throw new ShadowFailure("the front proxy is not running: run shadow:init to start it");
  }
}

/** Starts `version` in `slot` and waits for its health; stops it again if it never gets there. */
async function startSlot(
  context: ShadowContext,
  state: ShadowState,
  slot: Slot,
  version: string,
): Promise<number> {
  const { settings } = context;
  const other = state.slots.find((s) => s.slot !== slot)?.port;
  const exclude = [settings.livePort, ...(other ? [other] : [])];
  await sh(context, stopSlotScript(settings, slot), `stopping ${slot}`);
  const out = await sh(
    context,
    startSlotScript(settings, slot, version, exclude),
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
        slot,
      }),
      `${version} in ${slot} is not healthy`,
      (settings.healthTimeout + 30) * 1000,
    );
  } catch (error) {
    await sh(context, stopSlotScript(settings, slot), `stopping ${slot}`).catch(() => {});
    throw error;
  }
  return port;
}

/** Health of the live port through the proxy, after a switch. */
function verifyLive(context: ShadowContext): Promise<string> {
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

async function init(context: ShadowContext): Promise<ShadowOutcome> {
  const { settings, target } = context;
  const prepared = await target.exec({ script: prepareScript(settings), signal: context.signal });
  if (prepared.code === NO_SOCAT || prepared.code !== 0) {
    throw new ShadowFailure(prepared.stderr.trim() || `preparing ${settings.appDir}/shadow failed`);
  }
  const state = await readState(context);
  const live = slotIn(state, "live");
  if (state.proxy.running) {
    const message = `already initialized: the proxy (pid ${state.proxy.pid}) listens on ` +
      `${settings.listen}:${settings.livePort}`;
    return { from: live?.version, to: live?.version, message, state };
  }
  // After a reboot or on a node SOP 1 deployed, the active release is started in a slot and
  // put behind the proxy, so the live port keeps serving what it served.
  if (!live?.running && state.current) {
    const slot: Slot = live?.slot ?? "blue";
    context.say?.(`adopting the active release ${state.current} into ${slot}`);
    const port = await startSlot(context, state, slot, state.current);
    if (state.liveListening) {
      await sh(context, stopPlainAppScript(settings), "stopping the app started by app.start");
    }
    const standby = state.standby !== slot ? state.standby : undefined;
    await sh(
      context,
      switchScript(settings.appDir, { port, version: state.current, standby }),
      "switch",
    );
    await sh(context, startProxyScript(settings), "starting the proxy");
    await verifyLive(context);
    const message = `the proxy listens on ${settings.listen}:${settings.livePort}; ` +
      `${state.current} is live in ${slot} on :${port}`;
    return { from: live?.version ?? state.current, to: state.current, slot, port, message };
  }
  if (state.liveListening) {
    throw new ShadowFailure(
      `port ${settings.livePort} is in use, not by this tool's proxy, and no active release ` +
        "is there to adopt: stop what listens there, or set shadow.live_port",
    );
  }
  await sh(context, startProxyScript(settings), "starting the proxy");
  const message = live
    ? `the proxy listens on ${settings.listen}:${settings.livePort} → ${live.slot} ` +
      `(${live.version} on :${live.port})`
    : `the proxy listens on ${settings.listen}:${settings.livePort}; no live slot yet ` +
      "(shadow:build VERSION, then shadow:start)";
  return { from: live?.version, to: live?.version, message };
}

async function build(context: ShadowContext, version: string): Promise<ShadowOutcome> {
  const state = await readState(context);
  requireReady(state, false);
  const from = liveVersion(state);
  const slot = buildSlot(state);
  const replaced = state.slots.find((s) => s.slot === slot)!;
  if (replaced.version) {
    context.say?.(`${slot} held the ${replaced.role} ${replaced.version}: replacing it`);
  }
  try {
    await sh(
      context,
      fetchReleaseScript(context.settings, version),
      `fetching ${version}`,
      300_000,
    );
    const port = await startSlot(context, state, slot, version);
    const message = `${version} runs in ${slot} on :${port} and is healthy; live is untouched` +
      `${from ? ` (${from})` : ""}: shadow:start promotes it`;
    return { from, to: version, slot, port, message };
  } catch (error) {
    if (!(error instanceof ShadowFailure)) throw error;
    throw new ShadowFailure(`${error.message}; live is untouched`, from, version);
  }
}

async function status(context: ShadowContext): Promise<ShadowOutcome> {
  const state = await readState(context, true);
  for (const line of describeState(state, context.settings.livePort)) context.say?.(line);
  const live = slotIn(state, "live");
  const shadow = slotIn(state, "shadow") ?? slotIn(state, "standby");
  const outcome = { from: live?.version, to: shadow?.version, state };
  const sick = state.slots.filter((slot) => slot.running && slot.healthy === false);
  const problem = !state.initialized
    ? "not initialized: run shadow:init"
    : !state.proxy.running
    ? "the front proxy is not running: run shadow:init"
    : live && !(live.running && state.liveHealthy)
    ? `the live release ${live.version} does not answer its health check`
    : sick.length
    ? `${sick.map((s) => `${s.slot} (${s.version})`).join(", ")} not healthy`
    : undefined;
  if (problem) throw new ShadowFailure(problem, outcome.from, outcome.to, state);
  const message = live
    ? `live: ${live.version} in ${live.slot}` +
      (shadow ? `; ${shadow.role}: ${shadow.version} in ${shadow.slot}` : "")
    : `no live slot yet${shadow ? `; ${shadow.role}: ${shadow.version} in ${shadow.slot}` : ""}`;
  return { ...outcome, message };
}

/** Switches new connections to `to`, then checks the live port through the proxy. */
async function switchTo(
  context: ShadowContext,
  to: { slot: Slot; port: number; version: string },
  from: { slot: Slot; port: number; version: string } | undefined,
  standbyBefore: Slot | undefined,
): Promise<number> {
  const { settings } = context;
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
    switchScript(settings.appDir, { port: to.port, version: to.version, standby: from?.slot }),
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
      }),
      "switching back",
    );
    throw new ShadowFailure(`${(error as Error).message}; switched back to ${from.version}`);
  }
  return switchMs;
}

function slotRef(state: ShadowState, role: "live" | "shadow" | "standby") {
  const slot = slotIn(state, role);
  return slot?.port && slot.version
    ? { slot: slot.slot, port: slot.port, version: slot.version, running: slot.running }
    : undefined;
}

async function promote(context: ShadowContext): Promise<ShadowOutcome> {
  const state = await readState(context);
  requireReady(state, true);
  const live = slotRef(state, "live");
  const shadow = slotRef(state, "shadow");
  if (!shadow) {
    const standby = slotIn(state, "standby");
    throw new ShadowFailure(
      "nothing to promote: build a release with shadow:build VERSION first" +
        (standby ? ` (${standby.slot} holds the standby ${standby.version}: shadow:rollback)` : ""),
      live?.version,
    );
  }
  if (!shadow.running) {
    throw new ShadowFailure(
      `the shadow ${shadow.version} in ${shadow.slot} is not running: build it again`,
      live?.version,
      shadow.version,
    );
  }
  try {
    const switchMs = await switchTo(context, shadow, live, state.standby);
    const message = `${shadow.version} is live (${shadow.slot} on :${shadow.port}, switched in ` +
      `${switchMs} ms)` + (live ? `; ${live.version} stays up as standby in ${live.slot}` : "");
    const { slot, port } = shadow;
    return { from: live?.version, to: shadow.version, slot, port, switchMs, message };
  } catch (error) {
    if (!(error instanceof ShadowFailure)) throw error;
    throw new ShadowFailure(error.message, live?.version, shadow.version);
  }
}

async function rollback(context: ShadowContext): Promise<ShadowOutcome> {
  const state = await readState(context);
  requireReady(state, true);
  const live = slotRef(state, "live");
  const standby = slotRef(state, "standby");
  if (!standby?.running) {
    throw new ShadowFailure(
      standby
        ? `the standby ${standby.version} in ${standby.slot} is not running: nothing to roll back to`
        : "no standby release to roll back to (nothing was promoted yet, or a build replaced it)",
      live?.version,
      standby?.version,
    );
  }
  try {
    const switchMs = await switchTo(context, standby, live, state.standby);
    const message = `${standby.version} is live again (${standby.slot} on :${standby.port}, ` +
      `switched in ${switchMs} ms)` +
      (live ? `; ${live.version} stays up as standby in ${live.slot}` : "");
    const { slot, port } = standby;
    return { from: live?.version, to: standby.version, slot, port, switchMs, message };
  } catch (error) {
    if (!(error instanceof ShadowFailure)) throw error;
    throw new ShadowFailure(error.message, live?.version, standby.version);
  }
}
