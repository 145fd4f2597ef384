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
import type { ShadowOperation } from "./operation.ts";
import {
  fetchReleaseScript,
  NO_SOCAT,
  prepareScript,
  type Slot,
  startProxyScript,
  stopPlainAppScript,
  switchScript,
} from "./scripts.ts";
import { buildSlot, describeState, liveVersion, slotIn } from "./state.ts";
import {
  readState,
  requireReady,
  sh,
  type ShadowContext,
  ShadowFailure,
  type ShadowOutcome,
  slotRef,
  startSlot,
  switchTo,
  verifyLive,
} from "./node.ts";

export { type ShadowContext, ShadowFailure, type ShadowOutcome } from "./node.ts";

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
    context.say?.(
      `${slot} holds the ${replaced.role} ${replaced.version}: it keeps running until ` +
        `${version} is healthy`,
    );
  }
  try {
    await sh(
      context,
      fetchReleaseScript(context.settings, version),
      `fetching ${version}`,
      300_000,
    );
    const port = await startSlot(context, state, slot, version, true);
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
    const switchMs = await switchTo(context, shadow, live, state.standby, "shadow-start");
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
    const switchMs = await switchTo(context, standby, live, state.standby, "shadow-rollback");
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
