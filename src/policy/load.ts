/**
 * Loading policy and waivers files: YAML with positions, the schema, and template references
 * checked before anything is collected. Every problem names `file:line:col: key: message`.
 *
 * @example
 * ```ts
 * import { loadPolicy } from "./load.ts";
 * const policy = await loadPolicy("soc2", "/work/protocol");
 * console.log(policy.checks.map((c) => c.id));
 * ```
 * @module
 */
import { InputError } from "../errors.ts";
import { isAbsolute, join, resolve } from "node:path";
import {
  type DataPath,
  formatProblem,
  parseSource,
  type Problem,
  schemaProblems,
} from "../source/mod.ts";
import { type Policy, PolicySchema, type Waiver, WaiversSchema } from "./schema.ts";
import { GLOBAL_REFERENCES, referencesIn } from "./render.ts";

/** A policy or waivers file is not valid; nothing was collected. */
export class InvalidPolicyError extends InputError {
  constructor(message: string, readonly problems: Problem[]) {
    super(message);
    this.name = "InvalidPolicyError";
  }
}

/** The policy names shipped in `policies/` (what `security:audit` etc. load). */
export const POLICY_NAME = /^[a-z][a-z0-9-]*$/;

/** Where a policy is: a bare name means `<root>/policies/<name>.yaml`; otherwise a path. */
export function policyPath(nameOrPath: string, root: string): string {
  if (POLICY_NAME.test(nameOrPath)) return join(root, "policies", `${nameOrPath}.yaml`);
  return isAbsolute(nameOrPath)
    ? nameOrPath
    : resolve(Deno.env.get("INIT_CWD") ?? Deno.cwd(), nameOrPath);
}

async function readSource(path: string, what: string) {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new InvalidPolicyError(`cannot read the ${what} ${path}`, []);
  }
  return parseSource(path, text);
}

function fail(what: string, path: string, problems: Problem[]): never {
  throw new InvalidPolicyError(
    `the ${what} ${path} is not valid:\n${problems.map(formatProblem).join("\n")}`,
    problems,
  );
}

/**
 * Loads and checks a policy (a name in `<root>/policies/` or a path).
 * Throws {@link InvalidPolicyError} with every problem found.
 */
export async function loadPolicy(nameOrPath: string, root: string): Promise<Policy> {
  const path = policyPath(nameOrPath, root);
  const source = await readSource(path, "policy");
  if (source.problems.length) fail("policy", path, source.problems);
  const parsed = PolicySchema.safeParse(source.data);
  if (!parsed.success) fail("policy", path, schemaProblems(source, parsed.error.issues));
  const policy = parsed.data;
  const problems: Problem[] = [];
  policy.checks.forEach((check, i) => {
    const specs = check.collect ? ["collect", check.collect] : ["sources", check.sources];
    const refs = [
      ...referencesIn(specs[1], ["checks", i, specs[0] as string]),
      ...referencesIn(check.expect, ["checks", i, "expect"]),
    ];
    for (const { path: at, ref } of refs) {
      // A regular expression is checked at load; a value substituted later would not be.
      if (REGEX_KEYS.has(String(at.at(-1)))) {
        problems.push(problemAt(source, at, "a regular expression cannot hold a template"));
        continue;
      }
      const param = ref.startsWith("params.") ? ref.slice(7) : undefined;
      if (param !== undefined ? param in policy.params : GLOBAL_REFERENCES.test(ref)) continue;
      problems.push(problemAt(source, at, `unknown reference \${{ ${ref} }}`));
    }
  });
  if (problems.length) fail("policy", path, problems);
  return policy;
}

/** Keys whose values are regular expressions. */
const REGEX_KEYS = new Set(["matches", "not_matches", "regex"]);

function problemAt(source: ReturnType<typeof parseSource>, path: DataPath, message: string) {
  const key = path.map((p, i) => typeof p === "number" ? `[${p}]` : i ? `.${p}` : p).join("");
  return { file: source.file, ...source.positionOf(path), key, message };
}

/** Loads a waivers file; a missing optional file is no waivers. */
export async function loadWaivers(path: string): Promise<Waiver[]> {
  const source = await readSource(path, "waivers file");
  if (source.problems.length) fail("waivers file", path, source.problems);
  const parsed = WaiversSchema.safeParse(source.data ?? {});
  if (!parsed.success) fail("waivers file", path, schemaProblems(source, parsed.error.issues));
  return parsed.data.waivers;
}
