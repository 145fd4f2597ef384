/**
 * Which runs already carried out a change request, from the audit log (the record the deploy
 * user cannot rewrite), not from the request file (a convenience anyone with the state
 * directory can edit).
 *
 * @example
 * ```ts
 * import { runsUnderRequest } from "./used.ts";
 * const runs = await runsUnderRequest("/srv/state", "CR-20260701-a1b2c3"); // ["20260701T…-a1b2c3"]
 * ```
 * @module
 */
import { ACTION } from "../audit/actions.ts";
import { parseEntryLine } from "../audit/entry.ts";
import { loadHistory } from "../audit/history.ts";
import { splitLines } from "../audit/lines.ts";
import { checkRequestId } from "./request.ts";

/** A run that carried out a request, and the run it resumed (`--resume`), if any. */
export interface RunUnderRequest {
  run: string;
  resumes?: string;
}

/**
 * The whole runs (not a node's part, not a failure path) whose opening entry names request
 * `id`, oldest first. Only lines that mention the id are parsed.
 *
 * @example
 * ```ts
 * const earlier = await runsUnderRequest("/srv/state", "CR-20260701-a1b2c3");
 * if (earlier.length) console.log(`already carried out by ${earlier[0].run}`);
 * ```
 */
export async function runsUnderRequest(stateDir: string, id: string): Promise<RunUnderRequest[]> {
  const needle = new TextEncoder().encode(`"request":"${checkRequestId(id)}"`);
  const runs: RunUnderRequest[] = [];
  for (const rec of splitLines(await loadHistory(stateDir))) {
    if (rec.torn || !contains(rec.bytes, needle)) continue;
    const parsed = parseEntryLine(rec.bytes);
    if (!parsed.ok) continue;
    const e = parsed.entry;
    const opening = (e.action === ACTION.run || e.action === ACTION.rollout) &&
      e.status === "initiated" && e.request === id && typeof e.run === "string" &&
      !/[@.]/.test(e.run);
    if (opening && !runs.some((r) => r.run === e.run)) {
      runs.push({
        run: e.run as string,
        resumes: typeof e.resumes === "string" ? e.resumes : undefined,
      });
    }
  }
  return runs;
}

/**
 * The run `resuming` and every run it resumed in turn, as far as `runs` know them: the one
 * change a chain of `--resume`s carries on.
 *
 * @example
 * ```ts
 * resumeChain([{ run: "a" }, { run: "b", resumes: "a" }], "b"); // ["b", "a"]
 * ```
 */
export function resumeChain(
  runs: readonly RunUnderRequest[],
  resuming: string | undefined,
): string[] {
  const chain: string[] = [];
  for (let run = resuming; run !== undefined && !chain.includes(run);) {
    chain.push(run);
    run = runs.find((r) => r.run === run)?.resumes;
  }
  return chain;
}

function contains(bytes: Uint8Array, needle: Uint8Array): boolean {
  let at = bytes.indexOf(needle[0]);
  while (at !== -1 && at + needle.length <= bytes.length) {
    let j = 1;
    while (j < needle.length && bytes[at + j] === needle[j]) j++;
    if (j === needle.length) return true;
    at = bytes.indexOf(needle[0], at + 1);
  }
  return false;
}
