/**
 * The parts of the `yaml` package this project parses with, from the package's ES module build.
 *
 * The package's `node` export condition, which Deno follows, points at its CommonJS build: about
 * 80 files run through Deno's `require` path without a code cache, which cost more start-up than
 * the rest of a run's parsing. The ES module build (`browser/`) is the same release compiled from
 * the same sources, so it parses alike, errors and their positions included
 * (`test/source/yaml_build_test.ts` compares the two). The package's exports map does not name
 * that build, hence the path into `node_modules/`.
 *
 * @example
 * ```ts
 * import { LineCounter, parseDocument } from "./yaml.ts";
 * const lineCounter = new LineCounter();
 * parseDocument("a: [1", { lineCounter }).errors.length > 0; // true
 * ```
 * @module
 */
// An import of the package itself, so Deno installs it (node_modules/) before it loads the path.
import "yaml/package.json" with { type: "json" };
// @ts-types="yaml"
export {
  isMap,
  isScalar,
  LineCounter,
  parseDocument,
  visit,
} from "../../node_modules/yaml/browser/index.js";
