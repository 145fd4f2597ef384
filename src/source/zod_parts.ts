/**
 * The parts of zod the project uses, by name (see `zod.ts`, which exports them as `z`).
 *
 * @example
 * ```ts
 * import { strictObject, string } from "./zod_parts.ts";
 * strictObject({ name: string() }).parse({ name: "web-1" }); // { name: "web-1" }
 * ```
 * @module
 */
export {
  array,
  boolean,
  discriminatedUnion,
  enum,
  ipv4,
  literal,
  number,
  record,
  strictObject,
  string,
  toJSONSchema,
  tuple,
  union,
  url,
} from "zod";
export type {
  core,
  infer,
  input,
  output,
  ZodLiteral,
  ZodObject,
  ZodOptional,
  ZodRawShape,
  ZodString,
  ZodType,
} from "zod";
