/**
 * Parameters: types, enums, patterns anchored to the whole value, positional binding, and the
 * errors for unknown, repeated and missing parameters.
 */
import assert from "node:assert/strict";
import {
  bindParameters,
  checkValue,
  type ParameterDeclarations,
  ParameterError,
} from "../../src/runbook/params.ts";

const fails = (fn: () => unknown, message: RegExp) =>
  assert.throws(
    fn,
    (error: unknown) => error instanceof ParameterError && message.test(error.message),
  );

Deno.test("checkValue", async (t) => {
  await t.step("bool accepts true/yes/1 and false/no/0 in any case", () => {
    for (const raw of ["true", "YES", "1", true]) {
      assert.equal(checkValue("b", { type: "bool" }, raw), true);
    }
    for (const raw of ["false", "No", "0", false]) {
      assert.equal(checkValue("b", { type: "bool" }, raw), false);
    }
    fails(
      () => checkValue("b", { type: "bool" }, "maybe"),
      /"b" must be true or false, got "maybe"/,
    );
  });

  await t.step("int accepts whole numbers only", () => {
    assert.equal(checkValue("n", { type: "int" }, "42"), 42);
    assert.equal(checkValue("n", { type: "int" }, "-3"), -3);
    assert.equal(checkValue("n", { type: "int" }, 7), 7);
    for (const raw of ["1.5", "ten", "", "4 ", "0x10", "1e3"]) {
      fails(() => checkValue("n", { type: "int" }, raw), /"n" must be a whole number/);
    }
  });

  await t.step("enum accepts one of its values, exactly", () => {
    const env = { type: "enum" as const, values: ["staging", "prod"] };
    assert.equal(checkValue("env", env, "prod"), "prod");
    fails(() => checkValue("env", env, "Prod"), /"env" must be one of staging, prod, got "Prod"/);
    fails(() => checkValue("env", env, "prod; rm -rf /"), /must be one of/);
  });

  await t.step("a version without its v is refused with the tag it meant", () => {
    const version = {
      type: "string" as const,
      pattern: "v\\d+\\.\\d+\\.\\d+",
      required: false,
      positional: false,
    };
    fails(() => checkValue("version", version, "1.1.0"), /got "1\.1\.0"; did you mean v1\.1\.0\?/);
  });

  await t.step("a pattern must match the whole value", () => {
    const version = { type: "string" as const, pattern: "v\\d+\\.\\d+\\.\\d+" };
    assert.equal(checkValue("version", version, "v1.2.0"), "v1.2.0");
    for (
      const raw of ["xv1.2.0", "v1.2.0x", "v1.2.0; touch /tmp/x", "v1.2.0\nrm", "main", " v1.2.0"]
    ) {
      fails(() => checkValue("version", version, raw), /"version" must match v\\d\+/);
    }
  });

  await t.step("an alternation in a pattern is anchored as a whole", () => {
    const either = { type: "string" as const, pattern: "a|b" };
    assert.equal(checkValue("x", either, "a"), "a");
    assert.equal(checkValue("x", either, "b"), "b");
    fails(() => checkValue("x", either, "ab"), /must match a\|b/);
    fails(() => checkValue("x", either, "xa"), /must match/);
  });

  await t.step("a string without a pattern is taken as it is", () => {
    const value = "v1.2.0; $(touch x) `y` 'z'\n";
    assert.equal(checkValue("x", { type: "string" }, value), value);
    assert.equal(checkValue("x", {}, "anything"), "anything");
  });
});

Deno.test("bindParameters", async (t) => {
  const declarations: ParameterDeclarations = {
    version: {
      type: "string",
      required: true,
      positional: true,
      pattern: "v\\d+\\.\\d+\\.\\d+",
      description: "Release tag",
    },
    target: { type: "string", required: false, positional: true, default: "web" },
    env: { type: "enum", values: ["staging", "prod"], required: false, positional: false },
    force: { type: "bool", required: false, positional: false, default: false },
    count: { type: "int", required: false, positional: false },
  };

  await t.step("binds positional arguments in declaration order", () => {
    assert.deepEqual(bindParameters(declarations, ["v1.2.0", "db"], {}), {
      version: "v1.2.0",
      target: "db",
      force: false,
    });
  });

  await t.step("applies defaults and converts named values", () => {
    assert.deepEqual(
      bindParameters(declarations, ["v1.2.0"], { env: "prod", force: "yes", count: "3" }),
      { version: "v1.2.0", target: "web", env: "prod", force: true, count: 3 },
    );
  });

  await t.step("a positional parameter can also be given by name", () => {
    assert.equal(bindParameters(declarations, [], { version: "v2.0.0" }).version, "v2.0.0");
  });

  await t.step("checks positional values like named ones", () => {
    fails(() => bindParameters(declarations, ["main"], {}), /"version" must match/);
  });

  await t.step("refuses extra positional arguments", () => {
    fails(
      () => bindParameters(declarations, ["v1.2.0", "db", "more"], {}),
      /unexpected argument "more": positional parameters are version, target/,
    );
    fails(
      () => bindParameters({}, ["x"], {}),
      /unexpected argument "x": this runbook takes no positional parameters/,
    );
  });

  await t.step("refuses unknown parameters, naming the known ones", () => {
    fails(
      () => bindParameters(declarations, ["v1.2.0"], { verison: "v1.2.0" }),
      /unknown parameter "verison"; this runbook takes version, target, env, force, count/,
    );
    fails(
      () => bindParameters({}, [], { x: "1" }),
      /unknown parameter "x"; this runbook takes none/,
    );
  });

  await t.step("refuses a parameter given twice", () => {
    fails(
      () => bindParameters(declarations, ["v1.2.0"], { version: "v1.3.0" }),
      /parameter "version" is given twice/,
    );
  });

  await t.step("refuses a missing (or empty) required parameter, saying how to pass it", () => {
    fails(
      () => bindParameters(declarations, [], {}),
      /missing required parameter "version" \(Release tag\): pass it as an argument/,
    );
    fails(() => bindParameters(declarations, [], { version: "" }), /missing required parameter/);
    fails(
      () =>
        bindParameters({ token: { type: "string", required: true, positional: false } }, [], {}),
      /missing required parameter "token": pass -p token=VALUE/,
    );
  });

  await t.step("leaves out optional parameters with no value", () => {
    const bound = bindParameters(declarations, ["v1.2.0"], {});
    assert.equal("env" in bound, false);
    assert.equal("count" in bound, false);
  });
});
