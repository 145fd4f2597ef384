/**
 * One error model: every error the tool expects extends ProtocolError with its exit code, and
 * the CLI prints and maps them in one place, escaping what a file or argument put in them.
 */
import assert from "node:assert/strict";
import { FailureError, InputError, ProtocolError, UsageError } from "../../src/errors.ts";
import { printError, wantsJson } from "../../src/cli/errors.ts";
import { cli, fixture, runArgs, tempWorld } from "../fixtures/helpers.ts";
import { main } from "../../src/cli/main.ts";
import { ParameterError } from "../../src/runbook/params.ts";
import { TemplateError } from "../../src/template.ts";
import { ConfigError } from "../../src/config/mod.ts";
import { InvalidPolicyError } from "../../src/policy/load.ts";
import { PolicyParamError } from "../../src/policy/params.ts";
import { AuditInputError, AuditRefusedError, MissingSigningKeyError } from "../../src/audit/mod.ts";
import { SshConnectError } from "../../src/targets/ssh.ts";
import { PutFileError } from "../../src/targets/files.ts";
import { LockedError, LockFailedError } from "../../src/targets/lock.ts";
import { UnknownTargetError } from "../../src/targets/inventory.ts";
import { ReleaseRefusedError } from "../../src/release/create.ts";
import { GitError } from "../../src/release/git.ts";
import {
  AuthenticationError,
  CommandFailedError,
  SecretsInputError,
  SecretsRefusedError,
} from "../../src/secrets/mod.ts";
import { ShadowNotConfiguredError } from "../../src/shadow/settings.ts";
import { ShadowFailure } from "../../src/shadow/node.ts";
import { UnknownRunError } from "../../src/evidence/mod.ts";
import { InvalidFileError } from "../../src/source/mod.ts";
import { SyslogSendError } from "../../src/audit/syslog_tcp.ts";
import { ProcessFailedError } from "../../src/proc/mod.ts";

Deno.test("every expected error class extends ProtocolError with its exit code", () => {
  const input = [
    ParameterError,
    TemplateError,
    ConfigError,
    InvalidPolicyError,
    PolicyParamError,
    AuditInputError,
    MissingSigningKeyError,
    UnknownTargetError,
    SecretsInputError,
    ShadowNotConfiguredError,
    UnknownRunError,
    InvalidFileError,
    UsageError,
  ];
  const failure = [
    AuditRefusedError,
    SshConnectError,
    PutFileError,
    LockedError,
    LockFailedError,
    ReleaseRefusedError,
    GitError,
    SecretsRefusedError,
    AuthenticationError,
    CommandFailedError,
    ShadowFailure,
    SyslogSendError,
    ProcessFailedError,
  ];
  for (const type of input) {
    assert.ok(type.prototype instanceof InputError, `${type.name} is an input error`);
  }
  for (const type of failure) {
    assert.ok(type.prototype instanceof FailureError, `${type.name} is a failure`);
  }
  assert.equal(new ParameterError("x").exitCode, 2);
  assert.equal(new LockFailedError("web-1", "x").exitCode, 1);
  assert.ok(!(new TypeError("a bug") instanceof ProtocolError));
});

function stderrOf(work: () => void): string {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void lines.push(args.join(" "));
  try {
    work();
  } finally {
    console.error = original;
  }
  return lines.join("\n");
}

Deno.test("the error printer escapes control characters and terminal escapes", () => {
  const printed = stderrOf(() =>
    printError(new UsageError("unknown node web\x1b]0;owned\x07\x1b[2J\r-9"))
  );
  assert.equal(printed, "error: unknown node web\\x1b]0;owned\\x07\\x1b[2J\\x0d-9");
  // deno-lint-ignore no-control-regex
  assert.ok(!/[\x1b\x07\r]/.test(printed));
});

Deno.test("main maps an expected error to its exit code, in process", async () => {
  const printed: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void printed.push(args.join(" "));
  try {
    const code = await main(["plan", "deploy", "-p", "version=v1.0.0", "-p", "version=v2.0.0"]);
    assert.equal(code, 2);
  } finally {
    console.error = original;
  }
  assert.match(printed.join("\n"), /error: -p version is given twice/);
});

Deno.test("with --json, bad input is said on stdout too, for every command", async () => {
  const world = await tempWorld();
  try {
    const cases: string[][] = [
      runArgs(fixture("projects", "flow"), world, "no-such-runbook", "--json"),
      ["plan", "deploy", "-p", "version=v1.0.0", "-p", "version=v2.0.0", "--json"],
      ["runs", "--json", "--no-such-option"], // commander's own refusal
      ["audit:verify", "--state-dir", world.stateDir, "--pubkey", "/nonexistent.pem", "--json"],
    ];
    for (const args of cases) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /error: /);
      const said = JSON.parse(r.stdout);
      assert.equal(said.ok, false);
      assert.equal(said.exit_code, 2);
      assert.ok(said.error && r.stderr.includes(said.error), `${said.error} / ${r.stderr}`);
      // Without --json, stdout stays the command's own: nothing.
      const plain = await cli(args.filter((arg) => arg !== "--json"));
      assert.equal(plain.code, 2);
      assert.equal(plain.stdout, "");
    }
  } finally {
    await world.cleanup();
  }
});

Deno.test("--json counts among the options only, not after --", () => {
  assert.equal(wantsJson(["runs", "--json"]), true);
  assert.equal(wantsJson(["run", "deploy", "--", "--json"]), false);
  assert.equal(wantsJson(["run", "deploy"]), false);
});
