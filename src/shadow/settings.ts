/**
 * The shadow settings of one node, resolved from `protocol.yaml`: the `shadow:` block plus the
 * node's own app settings (its directory, and the live port and health path read from its
 * `app.health`). Pure: reads nothing, connects nowhere.
 *
 * @example
 * ```ts
 * import { shadowSettings } from "./settings.ts";
 * const settings = shadowSettings(
 *   { start: "deno run -A server.ts", ports: "9100-9199", health_timeout: 30 },
 *   { dir: "/opt/app", repo: "/srv/app.git", health: "http://127.0.0.1:8080/health", stop: "true" },
 * );
 * console.log(settings.livePort, settings.healthPath); // 8080 "/health"
 * ```
 * @module
 */
import { InputError } from "../errors.ts";
import type { Config, ShadowConfig } from "../config/mod.ts";

/** Everything a shadow operation needs to know about one node. */
export interface ShadowSettings {
  /** The app directory: `releases/`, `current`, `history`, and `shadow/`. */
  appDir: string;
  /** Git repository whose tags are the releases. */
  repo: string;
  /** Foreground command that runs a release on `$PORT`. */
  start: string;
  /** `app.stop`: stops an app started by SOP 1, when `shadow:init` takes over its port. */
  stop: string;
  /** Address and port the front proxy listens on. */
  listen: string;
  livePort: number;
  /** Ports the slots may use, inclusive. */
  ports: [number, number];
  /** Path (and query) checked with GET on a slot's port; 200 means healthy. */
  healthPath: string;
  /** Seconds a new slot has to become healthy. */
  healthTimeout: number;
}

/** The `shadow:` block is missing: shadow operations cannot run. */
export class ShadowNotConfiguredError extends InputError {
  constructor(file: string | undefined) {
    super(
      `blue-green deploys are not configured${file ? ` in ${file}` : ""}: add a \`shadow:\` ` +
        "block with at least `start:` (the command that runs the app in the foreground on " +
        "$PORT); see README, “Blue-green (shadow) deploys”",
    );
    this.name = "ShadowNotConfiguredError";
  }
}

/**
 * Resolves a node's settings. `app` is the node's view of `app:` (its overrides applied), so
 * each node may have its own directory and live port.
 */
export function shadowSettings(
  shadow: ShadowConfig | undefined,
  app: Pick<Config["app"], "dir" | "repo" | "health" | "stop">,
  file?: string,
): ShadowSettings {
  if (!shadow) throw new ShadowNotConfiguredError(file);
  const health = new URL(app.health);
  const defaultPort = health.protocol === "https:" ? 443 : 80;
  const [from, to] = shadow.ports.split("-").map(Number);
  // The proxy stands where clients found the app: app.health's host when it is an address.
  const host = health.hostname;
  const isAddress = /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
  return {
    appDir: app.dir.replace(/\/+$/, ""),
    repo: app.repo,
    start: shadow.start,
    stop: app.stop,
    listen: shadow.listen ?? (isAddress ? host : "0.0.0.0"),
    livePort: shadow.live_port ?? (health.port ? Number(health.port) : defaultPort),
    ports: [from, to],
    healthPath: shadow.health ?? `${health.pathname}${health.search}`,
    healthTimeout: shadow.health_timeout,
  };
}
