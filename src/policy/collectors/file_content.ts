/**
 * `file_content`: a file read with `cat` on the target, as text, or parsed as JSON or YAML with
 * an optional dotted key picked out (`deployment.secrets`).
 *
 * @example
 * ```ts
 * import { pickKey } from "./file_content.ts";
 * pickKey({ deployment: { secrets: "encrypted" } }, "deployment.secrets"); // "encrypted"
 * ```
 * @module
 */
import { z } from "../../source/zod.ts";
import { parse as parseYaml } from "yaml";
import { shellQuote } from "../../shell/quote.ts";
import { defineCollector, execOnTarget, NotCollected } from "./types.ts";

/** The spec of a `file_content` collector. */
export const FileContentSpec = z.strictObject({
  kind: z.literal("file_content"),
  path: z.string().min(1),
  format: z.enum(["text", "json", "yaml"]).default("text"),
  key: z.string().optional().describe("Dotted key to pick from a JSON/YAML document."),
});

/** The value at a dotted key, or undefined. */
export function pickKey(data: unknown, key: string | undefined): unknown {
  if (!key) return data;
  let value = data;
  for (const part of key.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** Collects `{exists, text?, value?}`: `value` is the parsed document or the picked key. */
export const fileContent = defineCollector(FileContentSpec, async (spec, ctx) => {
  const p = shellQuote(spec.path);
  const result = await execOnTarget(ctx, `if [ -f ${p} ]; then cat -- ${p}; else exit 3; fi`);
  if (result.code === 3) return { path: spec.path, exists: false };
  if (result.code !== 0) throw new NotCollected("error", `cannot read ${spec.path}`);
  const text = result.stdout;
  if (spec.format === "text") return { path: spec.path, exists: true, text, value: text };
  let data: unknown;
  try {
    data = spec.format === "json" ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new NotCollected("error", `${spec.path} is not valid ${spec.format}: ${error}`);
  }
  const value = pickKey(data, spec.key);
  return { path: spec.path, exists: true, value, set: value !== undefined };
});
