/**
 * `config`: a key of the loaded project configuration (`protocol.yaml`), with its defaults
 * applied — what the tool will actually do, not only what the file spells out.
 *
 * @example
 * ```yaml
 * collect: { kind: config, key: deployment.strategy }
 * expect: [{ fact: value, eq: release }]
 * ```
 * @module
 */
import { z } from "../../source/zod.ts";
import { pickKey } from "./file_content.ts";
import { defineCollector, NotCollected } from "./types.ts";

/** The spec of a `config` collector. */
export const ConfigSpec = z.strictObject({
  kind: z.literal("config"),
  key: z.string().min(1).describe("Dotted key such as deployment.secrets."),
});

/** Collects `{value, set}` from the configuration; an error when there is none. */
export const configKey = defineCollector(ConfigSpec, (spec, ctx) => {
  if (!ctx.config) {
    throw new NotCollected("error", "no project configuration (protocol.yaml); pass --config");
  }
  const value = pickKey(ctx.config, spec.key);
  return Promise.resolve({ key: spec.key, value, set: value !== undefined, file: ctx.config.file });
});
