/**
 * zod as this project imports it: `z`, holding only the parts the schemas use.
 *
 * zod's own `z` is a namespace object that its entry module exports as a value, so a bundle that
 * imports it keeps all of zod: every one of its ~60 locales, JSON Schema import and export, the
 * ISO and coercion helpers — ~760 KB that `run` loaded and compiled before its first step
 * (+120 ms CPU over an empty script, bundled; named imports: +40 ms). Re-exported by name from
 * here, the bundler keeps what the project calls and nothing else; the schemas still write
 * `z.string()`, and `test/source/zod_test.ts` keeps every other module from importing zod itself.
 * To use another part of zod, add its name below.
 *
 * @example
 * ```ts
 * import { z } from "./zod.ts";
 * const Port = z.number().int().min(1);
 * type Port = z.infer<typeof Port>;
 * Port.safeParse(0).success; // false
 * ```
 * @module
 */
export * as z from "./zod_parts.ts";
