/**
 * dax, loaded on first use: its npm build brings Node's child_process and stream layers and a
 * Deno-namespace shim, 150–400 ms of start-up that only a command running a step or reaching a
 * node should pay. Targets take `$` from here instead of importing it.
 *
 * @example
 * ```ts
 * import { dax } from "./dax.ts";
 * const $ = await dax();
 * const result = await $`uname -s`.noThrow().quiet();
 * result.code; // 0
 * ```
 * @module
 */
import type $ from "dax";

let loading: Promise<typeof $> | undefined;

/**
 * dax's `$`, imported the first time it is asked for.
 *
 * @example
 * ```ts
 * import { dax } from "./dax.ts";
 * const $ = await dax(); // then $`...`: Deno's transpiler drops the parentheses of (await dax())`...`
 * await $`true`;
 * ```
 */
export function dax(): Promise<typeof $> {
  return loading ??= import("dax").then((module) => module.default);
}
