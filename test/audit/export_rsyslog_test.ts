// audit:forward and audit:export --format syslog against a real rsyslogd on loopback (imtcp +
// mmpstrucdata): one record per entry with every field, hostile values included, and a sig that
// verifies on the receiving side.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createPublicKey, verify } from "node:crypto";
import { appendAudit, type AuditFields, generateSigningKey } from "../../src/audit/mod.ts";
import { signingBytes } from "../../src/audit/entry.ts";
import { MSG_ONLY_PARAM, SD_ID, syslogRecord } from "../../src/audit/syslog.ts";
import { type Received, startRsyslog } from "./fixtures/rsyslog.ts";
import { runMain } from "./fixtures/run_main.ts";

// The newline-split forgery of issue 17: a value that, split at its newline, reads as a second
// record from another host.
const FORGERY = "ok\n<13>1 2024-01-01T00:00:00Z evil protocol - deploy " +
  '[protocol@32473 seq="99" status="success"] forged entry';

const HOSTILE: AuditFields[] = [
  { action: "deploy", repo: "/opt/app", note: FORGERY },
  {
    action: "config",
    quote: 'say "hi"',
    brackets: "a]b]]",
    backslash: "C:\\path\\",
    mix: '\\"]\\]"\\',
    sd_like: '[protocol@32473 x="y"] [other@1 a="b"]',
  },
  // Long, but short enough for the SD: carried there in full.
  { action: "deploy", medium: 'm]"\\'.repeat(1500) },
  // Too long for the SD (rsyslog loses an SD over 64 KiB): named in msg-only, whole in the MSG.
  { action: "deploy", big: "x".repeat(60 * 1024) },
  { action: "deploy", big: "]".repeat(60 * 1024) },
  {
    action: "incident",
    status: "failure",
    control: "tab\there\rcr\u0000nul\u0001soh\u007fdel",
    unicode: "é 漢字 🚀",
    n: 42,
    flag: false,
  },
  { action: "deploy", host: "web 1\n<13>evil", user: 'mallory "x"' },
];

// Entries in the log: the hostile ones and a sentinel appended later.
const N = HOSTILE.length + 1;

Deno.test("rsyslog receives one record per entry, every field, sig intact", async (t) => {
  const dir = `${await Deno.makeTempDir({ prefix: "export-rsyslog-" })}/state`;
  const { publicKeyPem } = await generateSigningKey(dir);
  const pubkey = `${dir}/../root.pub`;
  await Deno.writeTextFile(pubkey, publicKeyPem);
  for (const fields of HOSTILE) await appendAudit(dir, fields);
  const rx = await startRsyslog();
  const dest = `127.0.0.1:${rx.port}`;
  try {
    await t.step("audit:forward sends every entry", async () => {
      const r = await runMain(["audit:forward", "--syslog", dest, "--state-dir", dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        new RegExp(`forwarded ${N - 1} entries \\(seq 1\\.\\.${N - 1}\\) to ${dest}`),
      );
    });

    await t.step("re-running sends only what is new", async () => {
      await appendAudit(dir, { action: "deploy", repo: "/opt/app", note: "sentinel" });
      const r = await runMain(["audit:forward", "--syslog", dest, "--state-dir", dir, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.equal(out.sent, 1);
      assert.equal(out.firstSeq, N);
      assert.equal(out.lastSeq, N);
      const again = await runMain(["audit:forward", "--syslog", dest, "--state-dir", dir]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, new RegExp(`nothing new .* \\(last seq sent: ${N}\\)`));
    });

    const lines = (await Deno.readTextFile(`${dir}/deployments.log`)).trimEnd().split("\n");
    // The sentinel went last: any split record would have arrived before it and shifted it.
    const got = await rx.waitFor(N);

    await t.step("exactly one record per entry, in order, no forged record", () => {
      assert.equal(got.length, N);
      assert.equal(got[N - 1].msg, lines[N - 1]);
      assert.ok(!got.some((r) => r.hostname === "evil"), "a forged record arrived");
    });

    await t.step("each record carries every field and the exact line", () => {
      got.forEach((rec, i) => assertRecordMatches(rec, lines[i]));
    });

    await t.step("the received sig verifies against the entry", () => {
      const key = createPublicKey(publicKeyPem);
      for (const rec of got) {
        const entry = JSON.parse(rec.msg);
        const { sig, ...unsigned } = entry;
        assert.equal(rec.sd[SD_ID].sig, sig);
        assert.ok(verify(null, signingBytes(unsigned), key, Buffer.from(sig, "base64")));
      }
    });

    await t.step("the received stream verifies as a whole with audit:verify --stdin", async () => {
      const received = new TextEncoder().encode(got.map((r) => r.msg).join("\n") + "\n");
      const r = await runMain(["audit:verify", "--stdin", "--pubkey", pubkey], received);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`ok: ${N} entries verified`));
    });

    await t.step("audit:export --format syslog is the same octet-counted stream", async () => {
      const exported = await runMain(["audit:export", "--format", "syslog", "--state-dir", dir]);
      assert.equal(exported.code, 0, exported.stderr);
      await sendRaw(rx.port, exported.bytes);
      const all = await rx.waitFor(2 * N);
      assert.equal(all.length, 2 * N);
      all.slice(N).forEach((rec, i) => assertRecordMatches(rec, lines[i]));
    });

    await t.step("control: the same record newline-framed is split into a forgery", async () => {
      // What the old export sent (RFC 6587 non-transparent framing): this receiver splits it,
      // so the one-record assertions above can fail.
      const record = syslogRecord(JSON.parse(lines[0]), lines[0]);
      await sendRaw(rx.port, new TextEncoder().encode(record + "\n"));
      const all = await rx.waitFor(2 * N + 2);
      assert.equal(all.length, 2 * N + 2);
      assert.equal(all[2 * N + 1].hostname, "evil");
    });
  } finally {
    await rx.stop();
  }
});

Deno.test("audit:forward to a receiver that is down: exit 1, nothing marked sent", async () => {
  const dir = `${await Deno.makeTempDir({ prefix: "export-down-" })}/state`;
  await generateSigningKey(dir);
  await appendAudit(dir, { action: "deploy", repo: "/opt/app" });
  const rx = await startRsyslog();
  const dest = `127.0.0.1:${rx.port}`;
  await rx.stop();
  const r = await runMain(["audit:forward", "--syslog", dest, "--state-dir", dir]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`cannot reach syslog receiver ${dest}: .*nothing was marked`));
  assert.equal(await exists(`${dir}/forward/127.0.0.1_${rx.port}.json`), false);

  // The receiver comes back on the same port: the entry is sent then, not lost.
  const back = await startRsyslog(rx.port);
  try {
    const again = await runMain(["audit:forward", "--syslog", dest, "--state-dir", dir]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await back.waitFor(1)).length, 1);
  } finally {
    await back.stop();
  }
});

// rsyslog's default rendering of control characters in a parsed message: `#` + 3 octal digits.
function rsyslogRendering(value: string): string {
  // deno-lint-ignore no-control-regex
  return value.replace(/[\x00-\x1f]/g, (c) => "#" + c.charCodeAt(0).toString(8).padStart(3, "0"));
}

function assertRecordMatches(rec: Received, line: string): void {
  const entry = JSON.parse(line);
  assert.equal(rec.msg, line, `MSG of seq ${entry.seq} is not the exact log line`);
  const sd = { ...rec.sd[SD_ID] };
  const msgOnly = sd[MSG_ONLY_PARAM] === undefined ? [] : sd[MSG_ONLY_PARAM].split(",");
  delete sd[MSG_ONLY_PARAM];
  const expected = Object.fromEntries(
    Object.entries(entry).filter(([k]) => !msgOnly.includes(k))
      .map(([k, v]) => [k, rsyslogRendering(String(v))]),
  );
  assert.deepEqual(sd, expected, `SD-PARAMs of seq ${entry.seq}`);
  assert.deepEqual(Object.keys(rec.sd), [SD_ID]);
  // Only values too long for the SD are left to the MSG, and they are named.
  assert.deepEqual(msgOnly, String(entry.big ?? "").length > 32 * 1024 ? ["big"] : []);
  assert.equal(rec.appName, "protocol");
  assert.equal(rec.msgid, entry.action);
  assert.equal(rec.pri, String(13 * 8 + (entry.status === "failure" ? 3 : 5)));
  assert.equal(rec.hostname, entry.host.replace(/[^\x21-\x7e]/g, "_"));
}

async function sendRaw(port: number, bytes: Uint8Array): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
  await conn.closeWrite();
  while (await conn.read(new Uint8Array(64)) !== null) { /* until rsyslog closes */ }
  conn.close();
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}
