import assert from "node:assert/strict";
import {
  buildEntry,
  GENESIS_PREV,
  parseEntryLine,
  sha256Hex,
  validateFields,
} from "../../src/audit/entry.ts";
import { newKeyPair, signerFromPem } from "../../src/audit/keys.ts";
import { type AuditEntry, formatSeedLine, toJsonlLine } from "../../src/audit/mod.ts";

const signer = signerFromPem(newKeyPair().privatePem);
const ctx = {
  seq: 1,
  prev: GENESIS_PREV,
  ts: "2024-01-15T10:30:01.000Z",
  host: "web1",
  user: "alice",
};

function deployEntry(extra: Record<string, string> = {}): AuditEntry {
  return buildEntry(
    { action: "deploy", repo: "/opt/myapp", from: "v1.1.0", to: "v1.2.0", ...extra },
    ctx,
    signer,
  )
    .entry;
}

Deno.test("entry format", async (t) => {
  await t.step(
    "fields are in on-disk order and the line round-trips through the strict parser",
    () => {
      const { entry, line } = buildEntry(
        { action: "deploy", repo: "/opt/myapp", status: "failure" },
        ctx,
        signer,
      );
      assert.deepEqual(Object.keys(entry), [
        "seq",
        "ts",
        "host",
        "user",
        "action",
        "repo",
        "status",
        "prev",
        "kid",
        "sig",
      ]);
      const p = parseEntryLine(new TextEncoder().encode(line));
      assert.ok(p.ok);
      assert.deepEqual(p.entry, entry);
    },
  );

  await t.step("genesis prev is the hash of a domain string", () => {
    assert.equal(GENESIS_PREV, sha256Hex("protocol-audit-v1 genesis"));
  });

  await t.step(
    "undefined fields are dropped, status defaults to success, host/user can be given",
    () => {
      const { entry } = buildEntry({ action: "run", runbook: undefined, user: "bob" }, ctx, signer);
      assert.equal("runbook" in entry, false);
      assert.equal(entry.status, "success");
      assert.equal(entry.user, "bob");
    },
  );

  await t.step("callers cannot set chain fields, nest values or use odd names", () => {
    assert.throws(() => validateFields({ action: "deploy", seq: 3 }), /filled in by the log/);
    assert.throws(() => validateFields({ action: "deploy", sig: "x" }), /filled in by the log/);
    assert.throws(() => validateFields({ action: "Deploy" }), /action/);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => validateFields({ action: "deploy", list: [1] as any }), /flat/);
    assert.throws(() => validateFields({ action: "deploy", "bad key": "x" }), /field name/);
    assert.throws(() => validateFields({ action: "deploy", n: NaN }), /finite/);
  });

  await t.step("lines of 64 KiB or more are refused", () => {
    assert.throws(
      () => buildEntry({ action: "config", note: "x".repeat(70_000) }, ctx, signer),
      /64 KiB/,
    );
  });

  await t.step("the parser rejects alternative encodings of the same values", () => {
    const { line } = buildEntry({ action: "deploy", note: "a\u001fb" }, ctx, signer);
    assert.ok(line.includes("\\u001f"));
    const alt = line.replace("\\u001f", "\\u001F"); // same value, different bytes
    assert.deepEqual(JSON.parse(alt), JSON.parse(line));
    assert.equal(parseEntryLine(new TextEncoder().encode(alt)).ok, false);
  });

  await t.step("the parser rejects a base64 signature with non-canonical padding bits", () => {
    const { line, entry } = buildEntry({ action: "deploy" }, ctx, signer);
    const sig = entry.sig;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const last = sig[85];
    const twin = alphabet[alphabet.indexOf(last) ^ 1]; // differs only in a padding bit
    const alt = line.replace(sig, sig.slice(0, 85) + twin + "==");
    assert.equal(parseEntryLine(new TextEncoder().encode(alt)).ok, false);
  });
});

Deno.test("deploy:log seed format", async (t) => {
  await t.step("a deploy entry matches the seed line exactly", () => {
    assert.equal(
      formatSeedLine(deployEntry()),
      "2024-01-15T10:30:01Z deploy repo=/opt/myapp from=v1.1.0 to=v1.2.0 status=success",
    );
  });

  await t.step("stable field order, quoted values with spaces, verbose extras last", () => {
    const { entry } = buildEntry(
      {
        action: "run",
        note: "two words",
        run: "r1",
        runbook: "deploy",
        env: "prod",
        status: "aborted",
      },
      ctx,
      signer,
    );
    assert.equal(
      formatSeedLine(entry),
      '2024-01-15T10:30:01Z run env=prod runbook=deploy run=r1 note="two words" status=aborted',
    );
    assert.equal(
      formatSeedLine(entry, { verbose: true }),
      '2024-01-15T10:30:01Z run env=prod runbook=deploy run=r1 note="two words" status=aborted ' +
        `seq=1 host=web1 user=alice kid=${signer.kid}`,
    );
  });
});

Deno.test("export formats", async (t) => {
  await t.step("jsonl lines parse as flat JSON objects", () => {
    const parsed = JSON.parse(toJsonlLine(deployEntry()));
    assert.equal(parsed.action, "deploy");
    assert.ok(Object.values(parsed).every((v) => typeof v !== "object"));
  });
});
