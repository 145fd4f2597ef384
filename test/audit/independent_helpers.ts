/**
 * The independent verifier (fixtures/verify_audit.py: Python + `cryptography`, written from the
 * README alone) run over a state dir's history, and the check that it agrees with
 * `verifyAuditLog`'s verdict.
 *
 * @example
 * ```ts
 * import { verifyAuditLog } from "../../src/audit/mod.ts";
 * const dir = "/tmp/state";
 * await assertIndependentAgrees(dir, await verifyAuditLog(dir));
 * ```
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { VerifyResult } from "../../src/audit/mod.ts";
import { keyForSeq } from "../../src/audit/keys.ts";
import { historyFiles } from "../../src/audit/paths.ts";
import { readKeyring } from "../../src/audit/signing.ts";
import { fixture } from "./helpers.ts";

/** Runs verify_audit.py with `args`; its exit code and everything it printed. */
export async function python(args: string[]): Promise<{ code: number; out: string }> {
  // Debian's python3 with its python3-cryptography (test/system-packages.txt), not whatever
  // python3 comes first on PATH: a fresh machine has no other.
  const r = await new Deno.Command("/usr/bin/python3", {
    args: [fixture("verify_audit.py"), ...args],
  })
    .output();
  return {
    code: r.code,
    out: new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr),
  };
}

/** The trust root (the keyring's key for seq 1) as base64 of its raw bytes. */
export async function rootBase64(dir: string): Promise<string> {
  return Buffer.from(keyForSeq(await readKeyring(dir), 1)!.publicKeyRaw).toString("base64");
}

/**
 * The independent verifier over every file of the history (and the checkpoints) agrees with
 * `ours`: both pass with the same number of entries, or both fail.
 */
export async function assertIndependentAgrees(
  dir: string,
  ours: VerifyResult,
  checkpoints: string[] = [],
): Promise<void> {
  const theirs = await python([
    await rootBase64(dir),
    ...await historyFiles(dir),
    ...checkpoints.flatMap((c) => ["-c", c]),
  ]);
  if (ours.ok) {
    assert.equal(theirs.code, 0, theirs.out);
    assert.equal(theirs.out.trim(), `ok ${ours.entries}`);
  } else {
    assert.equal(theirs.code, 1, `audit:verify: ${ours.firstBad?.reason}; python: ${theirs.out}`);
    assert.match(theirs.out, /^FAIL /);
  }
}
