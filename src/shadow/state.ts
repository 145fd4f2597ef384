/**
 * A node's shadow state as the tool understands it: parsed from the `key=value` lines of
 * `stateScript`, with each slot's role worked out in one place. Pure.
 *
 * Roles: the slot whose port `live.port` names is **live**; the other slot, if it holds a
 * release, is the **standby** when it was live before the last switch (the `standby` file), and
 * otherwise the **shadow**, built and waiting to be promoted.
 *
 * @example
 * ```ts
 * import { parseShadowState, slotIn } from "./state.ts";
 * const state = parseShadowState("initialized=yes\nlive_port=9101\nblue_port=9101\nblue_version=v1.1.0\nblue_running=yes");
 * console.log(slotIn(state, "live")?.slot); // "blue"
 * ```
 * @module
 */
import { otherSlot, type Slot, SLOTS } from "./scripts.ts";

/** What a slot does now. */
export type SlotRole = "live" | "shadow" | "standby" | "empty";

/** One slot. */
export interface SlotState {
  slot: Slot;
  role: SlotRole;
  version?: string;
  port?: number;
  pid?: number;
  running: boolean;
  /** Only when health was asked for. */
  healthy?: boolean;
}

/** Everything about a node's blue-green setup. */
export interface ShadowState {
  /** `<app.dir>/shadow` exists. */
  initialized: boolean;
  socat: boolean;
  /** Something (the proxy, or an app started by SOP 1) listens on the live port. */
  liveListening?: boolean;
  /** The release `current` points to. */
  current?: string;
  proxy: { pid?: number; running: boolean };
  /** The slot port the proxy forwards new connections to. */
  livePort?: number;
  standby?: Slot;
  slots: SlotState[];
  /** The live port answers its health check through the proxy (only when asked). */
  liveHealthy?: boolean;
}

/** Parses the output of `stateScript`. Unknown keys are ignored; missing ones mean "none". */
export function parseShadowState(text: string): ShadowState {
  const values = new Map<string, string>();
  for (const line of text.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) values.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  const word = (key: string) => values.get(key) || undefined;
  const number = (key: string) => {
    const value = Number(word(key));
    return Number.isInteger(value) && value > 0 ? value : undefined;
  };
  const flag = (key: string) => values.has(key) ? values.get(key) === "yes" : undefined;
  const livePort = number("live_port");
  const standby = SLOTS.find((slot) => slot === word("standby"));
  const slots = SLOTS.map((slot): SlotState => {
    const version = word(`${slot}_version`);
    const port = number(`${slot}_port`);
    const role: SlotRole = !version
      ? "empty"
      : port !== undefined && port === livePort
      ? "live"
      : standby === slot
      ? "standby"
      : "shadow";
    return {
      slot,
      role,
      version,
      port,
      pid: number(`${slot}_pid`),
      running: flag(`${slot}_running`) ?? false,
      healthy: flag(`${slot}_healthy`),
    };
  });
  return {
    initialized: flag("initialized") ?? false,
    socat: flag("socat") ?? false,
    liveListening: flag("live_listening"),
    current: word("current"),
    proxy: { pid: number("proxy_pid"), running: word("proxy") === "running" },
    livePort,
    standby,
    slots,
    liveHealthy: flag("live_healthy"),
  };
}

/** The slot that has `role`, if one has. */
export function slotIn(state: ShadowState, role: SlotRole): SlotState | undefined {
  return state.slots.find((slot) => slot.role === role);
}

/** The slot a build goes into: never the live one; blue while nothing is live. */
export function buildSlot(state: ShadowState): Slot {
  const live = slotIn(state, "live");
  return live ? otherSlot(live.slot) : "blue";
}

/** The live slot's version, for `from` in audit entries. */
export function liveVersion(state: ShadowState): string | undefined {
  return slotIn(state, "live")?.version;
}

/** One line per part of the setup, as `shadow:status` prints it. */
export function describeState(state: ShadowState, livePort: number): string[] {
  if (!state.initialized) return ["not initialized: run shadow:init"];
  const proxy = state.proxy.running
    ? `proxy on :${livePort} (pid ${state.proxy.pid})`
    : `proxy on :${livePort} NOT RUNNING`;
  const target = state.livePort ? `→ :${state.livePort}` : "→ no live slot yet";
  const health = state.liveHealthy === undefined
    ? ""
    : state.liveHealthy
    ? ", healthy"
    : ", NOT HEALTHY";
  const lines = [`${proxy} ${target}${health}`];
  for (const slot of state.slots) {
    if (slot.role === "empty") {
      lines.push(`${slot.slot.padEnd(6)} empty`);
      continue;
    }
    const run = slot.running ? `running (pid ${slot.pid})` : "stopped";
    const ok = slot.healthy === undefined ? "" : slot.healthy ? ", healthy" : ", NOT HEALTHY";
    lines.push(
      `${slot.slot.padEnd(6)} ${slot.role.padEnd(8)} ${slot.version} on :${slot.port}, ${run}${ok}`,
    );
  }
  return lines;
}
