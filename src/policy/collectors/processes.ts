/**
 * `processes`: every process on the target, from `ps`: pid, user, `comm` (the executable's
 * name), `name` (the base name of argv[0], which `exec -a` can set) and the full `args`.
 * Both names are kept because malware renames itself either way.
 *
 * @example
 * ```ts
 * import { parseProcesses } from "./processes.ts";
 * parseProcesses("  42 root sleep xmrig 60\n", 0);
 * // [{ pid: 42, user: "root", comm: "sleep", name: "xmrig", args: "xmrig 60" }]
 * ```
 * @module
 */
import { z } from "../../source/zod.ts";
import { defineCollector, runOnTarget } from "./types.ts";

/** The spec of a `processes` collector. */
export const ProcessesSpec = z.strictObject({ kind: z.literal("processes") });

/** `ps` for every process; the shell's own pid comes first so it can be left out. */
export const PROCESSES_COMMAND = "echo $$; ps -eo pid=,user=,comm=,args=";

/** One row of the process table. */
export interface ProcessRow {
  pid: number;
  user: string;
  comm: string;
  name: string;
  args: string;
}

/** Parses `ps -eo pid=,user=,comm=,args=` output, leaving out `self` (the collecting shell). */
export function parseProcesses(text: string, self: number): ProcessRow[] {
  const rows: ProcessRow[] = [];
  for (const line of text.split("\n")) {
    const match = /^\s*(\d+)\s+(\S+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const [, pid, user, comm, args] = match;
    if (Number(pid) === self) continue;
    const argv0 = args.split(/\s+/)[0] ?? "";
    rows.push({ pid: Number(pid), user, comm, name: argv0.split("/").pop() ?? argv0, args });
  }
  return rows;
}

/** Collects `{items: ProcessRow[], count}`; the `ps` process itself is left out too. */
export const processes = defineCollector(ProcessesSpec, async (_spec, ctx) => {
  const [self, ...rest] = (await runOnTarget(ctx, PROCESSES_COMMAND)).split("\n");
  const items = parseProcesses(rest.join("\n"), Number(self))
    .filter((row) => !(row.comm === "ps" && row.args.startsWith("ps -eo")));
  return { items, count: items.length };
});
