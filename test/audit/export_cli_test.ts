// audit:export's gate (verify first, refuse or name every line it cannot export), and
// audit:verify --stdin, the receiving side's check of exported lines.
import assert from "node:assert/strict";
import { appendAudit, generateSigningKey } from "../../src/audit/mod.ts";
import { runMain } from "./fixtures/run_main.ts";
import { type AddressInfo, createServer } from "node:net";

const encoder = new TextEncoder();

async function stateWithEntries(n: number): Promise<{ dir: string; pubkey: string }> {
  const dir = `${await Deno.makeTempDir({ prefix: "export-cli-" })}/state`;
  const { publicKeyPem } = await generateSigningKey(dir);
  const pubkey = `${dir}/../root.pub`;
  await Deno.writeTextFile(pubkey, publicKeyPem);
  for (let i = 1; i <= n; i++) {
    await appendAudit(dir, { action: "deploy", repo: "/opt/app", to: `v${i}`, note: "a\nb" });
  }
  return { dir, pubkey };
}

Deno.test("audit:export --format jsonl prints the exact log lines", async () => {
  const { dir } = await stateWithEntries(3);
  const r = await runMain(["audit:export", "--state-dir", dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, await Deno.readTextFile(`${dir}/deployments.log`));
  const since = await runMain(["audit:export", "--state-dir", dir, "--since", "2"]);
  assert.equal(since.stdout.trimEnd().split("\n").length, 1);
  assert.equal(JSON.parse(since.stdout).seq, 3);
});

Deno.test("audit:export refuses a log that does not verify; --force exports it loudly", async () => {
  const { dir } = await stateWithEntries(3);
  const log = `${dir}/deployments.log`;
  const text = await Deno.readTextFile(log);
  await Deno.writeTextFile(log, text.replace('"to":"v2"', '"to":"v9"'));

  const refused = await runMain(["audit:export", "--state-dir", dir, "--format", "syslog"]);
  assert.equal(refused.code, 1);
  assert.equal(refused.stdout, "");
  assert.match(refused.stderr, /does not verify \(line 2 of .*deployments\.log: edited/);

  const forced = await runMain(["audit:export", "--state-dir", dir, "--force"]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(forced.stdout.trimEnd().split("\n").length, 3);
  assert.match(forced.stderr, /warning: the audit log does not verify .*exported anyway/);
});

Deno.test("audit:export names every line it cannot export and fails", async () => {
  const { dir } = await stateWithEntries(3);
  const log = `${dir}/deployments.log`;
  const lines = (await Deno.readTextFile(log)).split("\n");
  lines.splice(1, 0, "not json at all");
  await Deno.writeTextFile(log, lines.join("\n") + "partial");

  const refused = await runMain(["audit:export", "--state-dir", dir]);
  assert.equal(refused.code, 1);
  assert.equal(refused.stdout, "");

  const forced = await runMain(["audit:export", "--state-dir", dir, "--force"]);
  assert.equal(forced.code, 1, "a skipped line must fail the export even with --force");
  assert.equal(forced.stdout.trimEnd().split("\n").length, 3);
  assert.match(forced.stderr, /line 2 of .*deployments\.log is not an entry .*not valid JSON/);
  assert.match(forced.stderr, /line 5 of .*deployments\.log is not an entry .*torn last line/);
});

Deno.test("audit:export: bad input exits 2", async () => {
  const { dir } = await stateWithEntries(1);
  const format = await runMain(["audit:export", "--state-dir", dir, "--format", "csv"]);
  assert.equal(format.code, 2);
  assert.match(format.stderr, /--format must be jsonl or syslog/);
  const since = await runMain(["audit:export", "--state-dir", dir, "--since", "-1"]);
  assert.equal(since.code, 2);
  const none = await runMain(["audit:export", "--state-dir", `${dir}/missing`]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^error: (no trust root|no audit log)/);
});

Deno.test("audit:verify --stdin checks what a receiver got", async (t) => {
  const { dir, pubkey } = await stateWithEntries(4);
  const exported = (await runMain(["audit:export", "--state-dir", dir])).bytes;
  const verify = (input: Uint8Array, ...extra: string[]) =>
    runMain(["audit:verify", "--stdin", "--pubkey", pubkey, ...extra], input);

  await t.step("the exported stream verifies", async () => {
    const r = await verify(exported);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /ok: 4 entries verified/);
  });

  await t.step("lines delivered twice are ignored and counted", async () => {
    const text = new TextDecoder().decode(exported);
    const lines = text.trimEnd().split("\n");
    const twice = [...lines.slice(0, 3), ...lines.slice(1)].join("\n") + "\n";
    const r = await verify(encoder.encode(twice), "--json");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.entries, 4);
    assert.equal(out.duplicates, 2);
  });

  await t.step("an edited, dropped or forged line fails with its input line number", async () => {
    const lines = new TextDecoder().decode(exported).trimEnd().split("\n");
    const edited = lines.map((l, i) => i === 2 ? l.replace('"to":"v3"', '"to":"v7"') : l);
    const e = await verify(encoder.encode(edited.join("\n") + "\n"));
    assert.equal(e.code, 1);
    assert.match(e.stdout, /FAILED: line 3 of <stdin>: edited/);

    const dropped = lines.filter((_, i) => i !== 1);
    const d = await verify(encoder.encode(dropped.join("\n") + "\n"));
    assert.equal(d.code, 1);
    assert.match(d.stdout, /FAILED: line 2 of <stdin>: deleted/);

    // The newline-split forgery, as an old-style receiver would have stored it.
    const forged = [lines[0], '{"seq":2,"action":"deploy","note":"forged"}', ...lines.slice(1)];
    const f = await verify(encoder.encode(forged.join("\n") + "\n"));
    assert.equal(f.code, 1);
    assert.match(f.stdout, /FAILED: line 2 of <stdin>: edited/);
  });

  await t.step("no trust root, an empty stream or --checkpoint: exit 2", async () => {
    const noKey = await runMain(["audit:verify", "--stdin"], exported);
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /pass --pubkey FILE/);
    const empty = await verify(new Uint8Array());
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /empty/);
    const cp = await verify(exported, "--checkpoint", pubkey);
    assert.equal(cp.code, 2);
  });
});

Deno.test("audit:forward: bad input exits 2, --help documents it", async () => {
  const { dir } = await stateWithEntries(1);
  for (const dest of ["nohostport", "host:0", "host:70000", "a b:1"]) {
    const r = await runMain(["audit:forward", "--syslog", dest, "--state-dir", dir]);
    assert.equal(r.code, 2, dest);
    assert.match(r.stderr, /HOST:PORT/);
  }
  const missing = await runMain(["audit:forward", "--state-dir", dir]);
  assert.equal(missing.code, 2);
  const help = await runMain(["audit:forward", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--syslog <host:port>/);
  assert.match(help.stdout, /--json/);
});

Deno.test("audit:forward refuses a log cut or rewritten below what it already sent", async () => {
  const { dir } = await stateWithEntries(3);
  // A receiver that reads everything and closes, standing in for the state a forward leaves.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const dest = `127.0.0.1:${listener.addr.port}`;
  const accepting = (async () => {
    for await (const conn of listener) {
      await conn.readable.pipeTo(new WritableStream());
    }
  })();
  try {
    const sent = await runMain(["audit:forward", "--syslog", dest, "--state-dir", dir, "--json"]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(JSON.parse(sent.stdout).lastSeq, 3);

    const log = `${dir}/deployments.log`;
    const original = await Deno.readTextFile(log);
    const lines = original.trimEnd().split("\n");
    await Deno.writeTextFile(log, lines.slice(0, 2).join("\n") + "\n");
    const cut = await runMain(["audit:forward", "--syslog", dest, "--state-dir", dir]);
    assert.equal(cut.code, 1);
    assert.match(cut.stderr, /entry 3, sent to .* is no longer in the log: entries were cut/);

    // Same seq, other bytes (verification is forced past, the forward state is not).
    await Deno.writeTextFile(log, original.replace('"to":"v3"', '"to":"v8"'));
    const rewritten = await runMain([
      "audit:forward",
      "--syslog",
      dest,
      "--state-dir",
      dir,
      "--force",
    ]);
    assert.equal(rewritten.code, 1);
    assert.match(rewritten.stderr, /entry 3, sent to .* has changed since it was sent/);
  } finally {
    listener.close();
    await accepting.catch(() => {});
  }
});

Deno.test("audit:forward: a receiver that breaks off mid-stream marks nothing sent", async () => {
  const { dir } = await stateWithEntries(1);
  for (let i = 0; i < 3; i++) {
    await appendAudit(dir, { action: "deploy", big: "x".repeat(60_000) });
  }
  // Reads a little, gives the sender time to write everything and close its side, then resets
  // the connection (SO_LINGER 0), which is not an end of stream. A plain close would send a
  // reset only while unread bytes remain in the kernel, and how much Node has already read into
  // its own buffers by then depends on the machine's load.
  const server = createServer((socket) => {
    socket.once("data", () => {
      socket.pause();
      setTimeout(() => socket.resetAndDestroy(), 500);
    });
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const port = (server.address() as AddressInfo).port;
  try {
    const r = await runMain(["audit:forward", "--syslog", `127.0.0.1:${port}`, "--state-dir", dir]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /sending to syslog receiver .* failed .*nothing was marked sent/);
    const state = `${dir}/forward/127.0.0.1_${port}.json`;
    assert.equal(await Deno.stat(state).then(() => true, () => false), false);
  } finally {
    await new Promise((closed) => server.close(closed));
  }
});
