/**
 * The app's lifecycle commands on one node, built as requests (pure) for `docker:logs` and
 * `docker:compose:rebuild`: they run in the active release (where the compose file is), with
 * the command reaching `sh -c` as one argument.
 *
 * @example
 * ```ts
 * import { appActionRequest } from "./app_commands.ts";
 * appActionRequest({ dir: "/opt/app", logs: "docker compose logs" }, "logs")?.script;
 * // 'cd -- "$APP_DIR/current" && exec sh -c "$APP_COMMAND"'
 * ```
 * @module
 */
import type { ExecRequest } from "../targets/target.ts";
import { type Lifecycle, processRebuild } from "../config/driver.ts";

/** The lifecycle actions the CLI runs directly. */
export type AppAction = "logs" | "rebuild";

/** The app settings of a node, as far as these actions need them. */
export type NodeLifecycle = Partial<Lifecycle> & { dir: string; start?: string; stop?: string };

/**
 * The shell command of `action` on a node: configured, or (rebuild, process driver) made from
 * stop, build and start. Undefined when the configuration has none (logs not set).
 *
 * @example
 * ```ts
 * appActionCommand({ dir: "/a", start: "./up", stop: "./down" }, "rebuild");
 * // "sh -c ./down && sh -c ./up" (each command quoted)
 * ```
 */
export function appActionCommand(app: NodeLifecycle, action: AppAction): string | undefined {
  if (action === "logs") return app.logs;
  if (app.rebuild) return app.rebuild;
  if (!app.start || !app.stop) return undefined;
  return processRebuild({ start: app.start, stop: app.stop, build: app.build });
}

/** Runs `sh -c "$APP_COMMAND"` in `<dir>/current`; values travel as environment variables. */
export const APP_ACTION_SCRIPT = 'cd -- "$APP_DIR/current" && exec sh -c "$APP_COMMAND"';

/**
 * The request that runs `action` on a node, or undefined when it has no such command.
 *
 * @example
 * ```ts
 * appActionRequest({ dir: "/a" }, "logs"); // undefined: app.logs is not set
 * ```
 */
export function appActionRequest(
  app: NodeLifecycle,
  action: AppAction,
  timeoutMs = action === "logs" ? 60_000 : 30 * 60_000,
): ExecRequest | undefined {
  const command = appActionCommand(app, action);
  if (!command) return undefined;
  return { script: APP_ACTION_SCRIPT, env: { APP_DIR: app.dir, APP_COMMAND: command }, timeoutMs };
}
