/**
 * The project configuration (`protocol.yaml`): the app being operated — where its releases come
 * from, where they live, how to start, stop and health-check it — and variables for runbooks.
 *
 * @example
 * ```ts
 * import { findConfig, loadConfig } from "./mod.ts";
 * const path = await findConfig({});
 * if (path) console.log((await loadConfig(path)).app.dir);
 * ```
 * @module
 */
export * from "./schema.ts";
export * from "./load.ts";
export * from "./template.ts";
