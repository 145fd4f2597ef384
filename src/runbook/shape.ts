/**
 * The checklist shape of a runbook — its group titles and section names — for the evidence of
 * a finished run: the runbook engine reads runbooks, so the CLI hands this to `evidence/`.
 *
 * @example
 * ```ts
 * import { checklistShapes } from "./shape.ts";
 * const shapeOf = checklistShapes(Deno.cwd());
 * const shape = await shapeOf("deploy", { version: "v1.2.0" });
 * shape.sections; // ["Before", "Steps", "After"] or the runbook's own names
 * ```
 * @module
 */
import type { RunbookShape, ShapeReader } from "../evidence/mod.ts";
import { describeRunbook } from "./describe.ts";
import { loadRunbook } from "./load.ts";

/**
 * A {@link ShapeReader} over the runbooks of `root`: `{}` when a runbook no longer loads.
 *
 * @example
 * ```ts
 * import { checklistShapes } from "./shape.ts";
 * await checklistShapes(Deno.cwd())("no-such-runbook", {}); // {}
 * ```
 */
export function checklistShapes(root: string): ShapeReader {
  return async (runbook, params) => {
    try {
      const loaded = await loadRunbook(root, runbook);
      const description = describeRunbook(loaded, params, undefined);
      const headers = new Map(
        [...description.prerequisites, ...description.steps, ...description.success]
          .filter((step) => step.depth === 0).map((step) => [step.number, step.checklist]),
      );
      return { headers, sections: description.sections } satisfies RunbookShape;
    } catch {
      // The record alone still makes a checklist; only group titles are lost.
      return {};
    }
  };
}
