/** `when:` conditions: the few forms accepted, the errors for the rest, and how they evaluate. */
import assert from "node:assert/strict";
import { evaluateCondition, parseCondition } from "../../src/runbook/condition.ts";
import type { TemplateValue } from "../../src/template.ts";

Deno.test("parseCondition", async (t) => {
  await t.step("reads a reference, its negation and comparisons", () => {
    assert.deepEqual(parseCondition("params.force"), {
      kind: "truthy",
      ref: "params.force",
      negate: false,
    });
    assert.deepEqual(parseCondition("! params.force"), {
      kind: "truthy",
      ref: "params.force",
      negate: true,
    });
    assert.deepEqual(parseCondition("params.strategy == 'release'"), {
      kind: "compare",
      ref: "params.strategy",
      op: "==",
      value: "release",
    });
    assert.deepEqual(parseCondition('app.name != "demo app"'), {
      kind: "compare",
      ref: "app.name",
      op: "!=",
      value: "demo app",
    });
    assert.deepEqual(parseCondition("steps.check.exit_code == 0"), {
      kind: "compare",
      ref: "steps.check.exit_code",
      op: "==",
      value: 0,
    });
    assert.deepEqual(parseCondition("params.force == true"), {
      kind: "compare",
      ref: "params.force",
      op: "==",
      value: true,
    });
  });

  await t.step("accepts a condition written as a template", () => {
    assert.deepEqual(parseCondition("${{ steps.target.output }}"), {
      kind: "truthy",
      ref: "steps.target.output",
      negate: false,
    });
  });

  await t.step("refuses an unquoted word as a value", () => {
    assert.throws(() => parseCondition("params.env == prod"), /quote the value, as in 'release'/);
  });

  await t.step("refuses anything richer than ref, !ref, ref == v, ref != v", () => {
    for (const text of ["params.a && params.b", "", "!", "1abc", "params.a > 1", "params.x()"]) {
      assert.throws(
        () => parseCondition(text),
        /expected `ref`, `!ref`, `ref == 'value'` or `ref != 'value'`/,
        text,
      );
    }
  });
});

Deno.test("evaluateCondition", async (t) => {
  const values: Record<string, TemplateValue> = {
    "p.yes": "yes",
    "p.empty": "",
    "p.false": "false",
    "p.zero": "0",
    "p.num0": 0,
    "p.bool": false,
    "p.true": true,
    "p.one": 1,
  };
  const lookup = (ref: string) => values[ref];
  const holds = (text: string) => evaluateCondition(parseCondition(text), lookup);

  await t.step("truthiness: empty, false, 0 and unknown are false", () => {
    assert.equal(holds("p.yes"), true);
    assert.equal(holds("p.true"), true);
    assert.equal(holds("p.one"), true);
    for (const ref of ["p.empty", "p.false", "p.zero", "p.num0", "p.bool", "p.unknown"]) {
      assert.equal(holds(ref), false, ref);
      assert.equal(holds(`!${ref}`), true, `!${ref}`);
    }
  });

  await t.step("comparisons compare as text", () => {
    assert.equal(holds("p.yes == 'yes'"), true);
    assert.equal(holds("p.yes != 'yes'"), false);
    assert.equal(holds("p.one == 1"), true);
    assert.equal(holds("p.one == '1'"), true);
    assert.equal(holds("p.bool == false"), true);
    assert.equal(holds("p.yes == 'Yes'"), false);
    assert.equal(holds("p.unknown != 'x'"), true);
  });
});
