/**
 * Fields an entry cannot carry are input errors (exit 2 through the one error model), never a
 * `TypeError`, which the CLI treats as a bug.
 */
import assert from "node:assert/strict";
import { validateFields } from "../../src/audit/entry.ts";
import { AuditInputError } from "../../src/audit/errors.ts";
import { InputError } from "../../src/errors.ts";

Deno.test("audit entry fields: each rule refuses with an input error naming the field", () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ action: "Deploy Now" }, /audit action/],
    [{ action: "deploy", status: "Great!" }, /audit status/],
    [{ action: "deploy", seq: 3 }, /seq is filled in by the log/],
    [{ action: "deploy", "bad key": "x" }, /field name/],
    [{ action: "deploy", nested: { a: 1 } }, /nested must be a string, number or boolean/],
    [{ action: "deploy", n: Infinity }, /n must be finite/],
  ];
  for (const [fields, message] of bad) {
    assert.throws(
      () => validateFields(fields as Parameters<typeof validateFields>[0]),
      (error: unknown) =>
        error instanceof AuditInputError && error instanceof InputError &&
        error.exitCode === 2 && message.test(error.message),
      JSON.stringify(fields),
    );
  }
  validateFields({ action: "deploy", repo: "/opt/app", status: "success" });
});
