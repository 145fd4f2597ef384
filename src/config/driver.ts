/**
 * App drivers: how the app on a node is built, started, stopped, restarted with a rebuild,
 * read (logs) and checked (running). Pure: these functions build argv arrays and shell
 * command strings; the runbook engine and the release commands execute them.
 *
 * - `process` (the demo's): the commands are the shell commands written in `protocol.yaml`.
 * - `compose` (production, as the seeds describe): `docker compose` command lines made from
 *   `app.compose` — always with an explicit project name, because the default (the compose
 *   file's directory) would differ for every release directory, and stopping the old release
 *   would then miss its containers.
 *
 * @example
 * ```ts
 * import { composeLifecycle } from "./driver.ts";
 * import { shellJoin } from "../shell/quote.ts";
 * const commands = composeLifecycle({ file: "docker-compose.yml", services: ["web"] }, "shop");
 * shellJoin(commands.start); // "docker compose -p shop -f docker-compose.yml up -d --build --remove-orphans web"
 * ```
 * @module
 */
import { shellJoin, shellQuote } from "../shell/quote.ts";

/** The `app.compose` block of `protocol.yaml`. */
export interface ComposeSettings {
  /** Compose file, relative to the release directory. */
  file: string;
  /** Compose project name (default: the app's name). */
  project?: string;
  /** Services to act on (default: all of them). */
  services: string[];
}

/** Every lifecycle command of the compose driver, as argv. */
export interface ComposeCommands {
  build: string[];
  start: string[];
  stop: string[];
  logs: string[];
  rebuild: string[];
  running: string[];
}

/** The shell commands of an app's lifecycle, as the runbooks use them (`app.start`, ...). */
export interface Lifecycle {
  start: string;
  stop: string;
  build?: string;
  logs?: string;
  rebuild?: string;
  running?: string;
}

/**
 * A compose project name made from an app name: lower case, digits, `-` and `_` only.
 *
 * @example
 * ```ts
 * composeProject("My App"); // "my-app"
 * ```
 */
export function composeProject(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^[-_]+|-+$/g, "") || "app";
}

/**
 * The `docker compose` argv of every lifecycle action.
 *
 * @example
 * ```ts
 * composeLifecycle({ file: "compose.yaml", services: [] }, "shop").logs;
 * // ["docker", "compose", "-p", "shop", "-f", "compose.yaml", "logs", "--no-color", "--tail=200"]
 * ```
 */
export function composeLifecycle(settings: ComposeSettings, appName: string): ComposeCommands {
  const base = [
    "docker",
    "compose",
    "-p",
    settings.project ?? composeProject(appName),
    "-f",
    settings.file,
  ];
  const services = settings.services;
  return {
    build: [...base, "build", ...services],
    // --build reuses the layers `build` made before the switch; after a rollback it rebuilds
    // the older release's images, which share the project's image names.
    start: [...base, "up", "-d", "--build", "--remove-orphans", ...services],
    stop: [...base, "stop", ...services],
    logs: [...base, "logs", "--no-color", "--tail=200", ...services],
    // SOP 5: containers recreated so they pick up new environment variables.
    rebuild: [...base, "up", "-d", "--build", "--force-recreate", "--remove-orphans", ...services],
    running: [...base, "ps", "--status", "running", "--quiet", ...services],
  };
}

/**
 * The compose driver's commands as shell strings. `running` succeeds only when at least one
 * container of the project runs (`ps --quiet` prints their ids).
 *
 * @example
 * ```ts
 * composeShell({ file: "docker-compose.yml", services: [] }, "shop").running;
 * // 'test -n "$(docker compose -p shop -f docker-compose.yml ps --status running --quiet)"'
 * ```
 */
export function composeShell(settings: ComposeSettings, appName: string): Required<Lifecycle> {
  const argv = composeLifecycle(settings, appName);
  return {
    build: shellJoin(argv.build),
    start: shellJoin(argv.start),
    stop: shellJoin(argv.stop),
    logs: shellJoin(argv.logs),
    rebuild: shellJoin(argv.rebuild),
    running: `test -n "$(${shellJoin(argv.running)})"`,
  };
}

/**
 * The process driver's rebuild when none is configured: stop, build (if any), start — each
 * command run by its own `sh -c`, so the configured strings compose without re-parsing.
 *
 * @example
 * ```ts
 * processRebuild({ start: "./run &", stop: "pkill -F app.pid" });
 * // "sh -c 'pkill -F app.pid' && sh -c './run &'"
 * ```
 */
export function processRebuild(app: Pick<Lifecycle, "start" | "stop" | "build">): string {
  return [app.stop, app.build, app.start].filter((c): c is string => !!c)
    .map((command) => `sh -c ${shellQuote(command)}`).join(" && ");
}

/** The app settings a driver needs. */
export interface DriverApp extends Partial<Lifecycle> {
  name: string;
  driver: "process" | "compose";
  compose?: ComposeSettings;
}

/**
 * Fills in the lifecycle commands the driver makes: with `compose`, every command not written
 * out in the configuration; with `process`, nothing (its commands are the configuration's).
 * Commands written in the configuration always win. The `compose` block is folded into the
 * commands and dropped, so every `app.*` value stays one string for templates.
 *
 * @example
 * ```ts
 * resolveLifecycle({ name: "shop", driver: "compose", compose: { file: "c.yml", services: [] } }).stop;
 * // "docker compose -p shop -f c.yml stop"
 * ```
 */
export function resolveLifecycle<T extends DriverApp>(
  app: T,
): Omit<T, "compose"> & Pick<Lifecycle, "start" | "stop"> {
  const { compose, ...given } = app;
  // "" rather than absent: runbooks test `when: app.build`, and a template naming an absent
  // value is an error even in a step its guard skips.
  const rest = { ...given, build: given.build ?? "" };
  if (app.driver !== "compose") return rest as Omit<T, "compose"> & Lifecycle;
  const made = composeShell(compose ?? { file: "docker-compose.yml", services: [] }, app.name);
  const written = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  return { ...made, ...written } as Omit<T, "compose"> & Lifecycle;
}
