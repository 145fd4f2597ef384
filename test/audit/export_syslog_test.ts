// The pure parts of the syslog export: record layout, SD escaping and size bounds, framing, and
// destination parsing.
import assert from "node:assert/strict";
import { buildEntry, GENESIS_PREV, MAX_LINE_BYTES } from "../../src/audit/entry.ts";
import { newKeyPair, signerFromPem } from "../../src/audit/keys.ts";
import type { AuditFields } from "../../src/audit/mod.ts";
import {
  escapeParam,
  MAX_RECORD_BYTES,
  MSG_ONLY_PARAM,
  octetFrame,
  SD_MAX_BYTES,
  structuredData,
  syslogRecord,
} from "../../src/audit/syslog.ts";
import { formatDestination, parseDestination } from "../../src/audit/syslog_tcp.ts";

const signer = signerFromPem(newKeyPair().privatePem);
const ctx = { seq: 1, prev: GENESIS_PREV, ts: "2024-01-15T10:30:01.000Z", host: "web1", user: "u" };
const bytes = (s: string) => new TextEncoder().encode(s).length;

function entryOf(fields: AuditFields) {
  return buildEntry(fields, ctx, signer);
}

// The largest line the writer allows, filled with `fill`.
function largest(fill: string, escapedWidth: number) {
  const base = bytes(entryOf({ action: "deploy", big: "" }).line);
  return entryOf({
    action: "deploy",
    big: fill.repeat((MAX_LINE_BYTES - base) / escapedWidth - 1),
  });
}

Deno.test("syslog record layout", async (t) => {
  await t.step("header, every field as SD-PARAM in line order, the exact line as MSG", () => {
    const { entry, line } = entryOf({ action: "deploy", repo: "/opt/app", n: 3, ok: true });
    const record = syslogRecord(entry, line);
    const params = Object.keys(entry).map((k) => `${k}="${String(entry[k])}"`).join(" ");
    assert.equal(
      record,
      `<109>1 2024-01-15T10:30:01.000Z web1 protocol - deploy [protocol@32473 ${params}] ${line}`,
    );
  });

  await t.step("severity follows status", () => {
    for (const [status, pri] of [["failure", 107], ["aborted", 108], ["initiated", 109]]) {
      const { entry, line } = entryOf({ action: "deploy", status: status as string });
      assert.ok(syslogRecord(entry, line).startsWith(`<${pri}>1 `));
    }
  });

  await t.step("hostile header values are sanitized there and exact in the SD", () => {
    const { entry, line } = entryOf({ action: "deploy", host: "web 1\n<13>evil" });
    const odd = { ...entry, ts: "yesterday" };
    const record = syslogRecord(odd, line);
    assert.ok(record.startsWith("<109>1 - web_1_<13>evil protocol - deploy [protocol@32473 "));
    assert.ok(record.includes('host="web 1\n<13>evil"'));
  });

  await t.step('SD-PARAM values escape ", \\ and ] (RFC 5424 §6.3.3) and nothing else', () => {
    assert.equal(escapeParam('a"b\\c]d[e\nf'), 'a\\"b\\\\c\\]d[e\nf');
    const { entry } = entryOf({ action: "deploy", note: '"]\\' });
    assert.ok(structuredData(entry).includes(' note="\\"\\]\\\\" '));
  });
});

Deno.test("syslog record sizes", async (t) => {
  await t.step("values too long for the SD are named in msg-only, the longest first", () => {
    const { entry } = entryOf({
      action: "deploy",
      a: "x".repeat(20_000),
      b: "y".repeat(20_000),
      c: "z".repeat(100),
    });
    const sd = structuredData(entry);
    assert.ok(bytes(sd) <= SD_MAX_BYTES);
    assert.ok(sd.endsWith(` ${MSG_ONLY_PARAM}="a"]`), sd.slice(-40));
    assert.ok(sd.includes(`b="${"y".repeat(20_000)}"`));
    for (const k of ["seq", "ts", "prev", "kid", "sig", "c"]) assert.ok(sd.includes(` ${k}="`));
  });

  await t.step("fields that fit leave no msg-only marker", () => {
    const { entry } = entryOf({ action: "deploy", a: "x".repeat(30_000) });
    assert.ok(!structuredData(entry).includes(MSG_ONLY_PARAM));
  });

  await t.step("control characters count as their #ooo rendering", () => {
    const { entry } = entryOf({ action: "deploy", a: "\u0001".repeat(9_000) });
    assert.ok(structuredData(entry).includes(`${MSG_ONLY_PARAM}="a"`));
  });

  await t.step("the largest entries stay under MAX_RECORD_BYTES, never cut", () => {
    for (const [fill, width] of [["]", 1], ['"', 2], ["\u0001", 6], ["é", 2]] as const) {
      const { entry, line } = largest(fill, width);
      const record = syslogRecord(entry, line);
      assert.ok(bytes(record) <= MAX_RECORD_BYTES, `${fill}: ${bytes(record)}`);
      assert.ok(record.endsWith(` ${line}`));
    }
  });
});

Deno.test("octet-counted frames count bytes, not characters", () => {
  const frame = new TextDecoder().decode(octetFrame("é\n漢"));
  assert.equal(frame, `${bytes("é\n漢")} é\n漢`);
  assert.equal(frame, "6 é\n漢");
});

Deno.test("syslog destinations", () => {
  assert.deepEqual(parseDestination("127.0.0.1:514"), { hostname: "127.0.0.1", port: 514 });
  assert.deepEqual(parseDestination("siem.example.com:6514"), {
    hostname: "siem.example.com",
    port: 6514,
  });
  assert.deepEqual(parseDestination("[::1]:514"), { hostname: "::1", port: 514 });
  assert.equal(formatDestination({ hostname: "::1", port: 514 }), "[::1]:514");
  for (const bad of ["", "host", "host:", ":514", "host:0", "host:65536", "::1:514", "a b:1"]) {
    assert.throws(() => parseDestination(bad), /HOST:PORT/, bad);
  }
});
