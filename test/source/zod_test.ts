/**
 * zod comes to the project through `src/source/zod.ts`, which names the parts the schemas use:
 * imported from `"zod"` itself, its namespace would carry all of zod (every locale, JSON Schema
 * import) into the bundle `run` loads before its first step.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "../../src/source/zod.ts";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));
const ZOD_IMPORT = /(?:import|export)\s[^;]*?\sfrom\s+["']zod(?:\/[^"']*)?["']/s;

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

Deno.test("only src/source/zod_parts.ts imports zod; every other module takes z from zod.ts", async () => {
  const direct: string[] = [];
  for await (const path of sourceFiles(SRC)) {
    const code = (await Deno.readTextFile(path)).replace(/\/\*[\s\S]*?\*\//g, "");
    if (ZOD_IMPORT.test(code)) direct.push(relative(SRC, path));
  }
  assert.deepEqual(direct, ["source/zod_parts.ts"]);
});

Deno.test("the lean z validates and reports in English, as zod's own z does", () => {
  const result = z.strictObject({ port: z.number() }).safeParse({ port: "80", extra: 1 });
  assert.equal(result.success, false);
  assert.deepEqual(result.error?.issues.map((issue) => issue.message), [
    "Invalid input: expected number, received string",
    'Unrecognized key: "extra"',
  ]);
});
