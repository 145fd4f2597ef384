/**
 * The collector registry drives the policy language: every registered collector is a `kind`
 * the schema (and the JSON Schema editors read) accepts, nothing else is, and an unknown kind
 * is refused at load with its `file:line:col` and the registered kinds.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { COLLECTORS } from "../../src/policy/collectors/mod.ts";
import { InvalidPolicyError, loadPolicy } from "../../src/policy/load.ts";
import { CollectSchema, policyJsonSchemas } from "../../src/policy/schema.ts";
import { formatProblem } from "../../src/source/mod.ts";
import { ROOT } from "../fixtures/helpers.ts";

const KINDS = COLLECTORS.map((c) => c.spec.shape.kind.value);

/** Every `kind` constant in a JSON Schema, wherever it stands. */
function kindsIn(schema: unknown): Set<string> {
  const kinds = new Set<string>();
  const walk = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== "object") return;
    const record = node as Record<string, unknown>;
    const kind = (record.properties as Record<string, { const?: string }> | undefined)?.kind;
    if (typeof kind?.const === "string") kinds.add(kind.const);
    Object.values(record).forEach(walk);
  };
  walk(schema);
  return kinds;
}

Deno.test("every registered collector is a kind of the policy schema, and nothing else is", () => {
  assert.equal(new Set(KINDS).size, KINDS.length, "two collectors share a kind");
  assert.deepEqual([...kindsIn(policyJsonSchemas().policy)].sort(), [...KINDS].sort());
  assert.deepEqual([...CollectSchema.options.map((o) => o.shape.kind.value)], KINDS);
});

Deno.test("an unknown collector kind is refused at its file:line:col, naming the known ones", async () => {
  const dir = await Deno.makeTempDir({ prefix: "policy-registry-" });
  const file = join(dir, "unknown.yaml");
  await Deno.writeTextFile(
    file,
    [
      "id: unknown",
      "title: Unknown",
      "checks:",
      "  - id: stat",
      "    title: Stat",
      "    severity: low",
      "    message: m",
      "    remediation: r",
      "    collect:",
      "      kind: file_stats",
      "      path: /tmp",
      "    expect: [{ fact: mode, eq: '0600' }]",
      "",
    ].join("\n"),
  );
  try {
    const error = await loadPolicy(file, ROOT).then(() => undefined, (e) => e);
    assert.ok(error instanceof InvalidPolicyError, String(error));
    const [problem] = error.problems.map(formatProblem);
    assert.match(problem, new RegExp(`^${file}:10:13: checks\\[0\\]\\.collect\\.kind: `));
    for (const kind of KINDS) assert.ok(problem.includes(`'${kind}'`), `${kind} in ${problem}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
