/**
 * Drill files (`runbooks/drills/*.yaml`): a scenario, the runbook it exercises, the severity
 * whose response target is the yardstick, and the faults to inject into the sandbox. Loaded
 * with positions, so a mistake reads `file:line:column` like a runbook's.
 *
 * @example
 * ```ts
 * import { loadDrill } from "./schema.ts";
 * const drill = await loadDrill("/work/protocol", "compromised-node");
 * console.log(drill.faults.map((f) => f.type));
 * ```
 * @module
 */
import { join } from "node:path";
import { z } from "../source/zod.ts";
import { InvalidFileError, parseSource, schemaProblems } from "../source/mod.ts";

/** The kinds of fault a drill can inject. */
export const FAULT_TYPES = [
  "webshell",
  "miner",
  "privileged-compose",
  "world-readable-key",
  "audit-log-edit",
  "failed-release",
  "malicious-dependency",
] as const;

/** One fault to inject. */
export const FaultSchema = z.strictObject({
  type: z.enum(FAULT_TYPES),
  /** For file faults: where, relative to the active release. */
  path: z.string().regex(/^[A-Za-z0-9_][\w./-]*$/).refine((p) => !p.split("/").includes(".."), {
    error: "a path inside the release, without ..",
  }).optional(),
  /** For `miner`: the process name it runs under. */
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/).optional(),
  /** For file faults: the file's age in days (a package unpacked from an old archive). */
  age_days: z.number().int().min(0).optional(),
  /** What the fault stands for in the scenario, for the report. */
  note: z.string().optional(),
});

/** The P1–P4 response targets of the incident-response runbook (SOP 8, triage). */
export const RESPONSE_TARGETS_MS = {
  P1: 15 * 60_000,
  P2: 60 * 60_000,
  P3: 4 * 60 * 60_000,
  P4: 24 * 60 * 60_000,
} as const;

/** A whole drill file. */
export const DrillSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]*$/),
  title: z.string(),
  scenario: z.string(),
  runbook: z.string().default("incident-response"),
  severity: z.enum(["P1", "P2", "P3", "P4"]),
  /** The release the sandbox runs before the faults, and the known-good one to recover to. */
  release: z.string().regex(/^v\d+\.\d+\.\d+$/).default("v1.2.0"),
  /** Parameters of the runbook besides `severity`. */
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  faults: z.array(FaultSchema).min(1),
  /** Follow-ups the scenario always raises (questions for the tabletop). */
  follow_ups: z.array(z.string()).default([]),
});

/** A loaded drill. */
export type Drill = z.infer<typeof DrillSchema> & { file: string };
/** One fault of a drill. */
export type FaultSpec = z.infer<typeof FaultSchema>;

/**
 * The path of a drill: an id means `runbooks/drills/<id>.yaml`.
 *
 * @example
 * ```ts
 * drillPath("/p", "leaked-key"); // "/p/runbooks/drills/leaked-key.yaml"
 * ```
 */
export function drillPath(root: string, name: string): string {
  return /\.ya?ml$/.test(name)
    ? join(root, name)
    : join(root, "runbooks", "drills", `${name}.yaml`);
}

/**
 * Parses drill text; throws `InvalidFileError` (exit 2, `file:line:col`) when invalid.
 *
 * @example
 * ```ts
 * parseDrill("d.yaml", "id: d\ntitle: D\nscenario: s\nseverity: P1\nfaults: [{type: miner}]");
 * ```
 */
export function parseDrill(file: string, text: string): Drill {
  const source = parseSource(file, text);
  if (source.problems.length) throw new InvalidFileError(source.problems);
  const parsed = DrillSchema.safeParse(source.data);
  if (!parsed.success) throw new InvalidFileError(schemaProblems(source, parsed.error.issues));
  return { ...parsed.data, file };
}

/**
 * Loads a drill by id or path.
 *
 * @example
 * ```ts
 * import { loadDrill } from "./schema.ts";
 * const drill = await loadDrill(Deno.cwd(), "incident-response");
 * ```
 */
export async function loadDrill(root: string, name: string): Promise<Drill> {
  const path = drillPath(root, name);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new InvalidFileError([{
      file: path,
      line: 1,
      column: 1,
      key: "",
      message: `no drill "${name}" (drills live in runbooks/drills/)`,
    }]);
  }
  return parseDrill(path, text);
}
