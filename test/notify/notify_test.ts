/**
 * Notifications against real HTTP servers on loopback started here: the body, the HMAC
 * signature, retries, a server that is down (audited, the run still succeeds), and the audit
 * seq and hash in each message matching the log.
 */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { join } from "node:path";
import { readAuditEntries } from "../../src/audit/mod.ts";
import { deliver, eventOf, messageBody } from "../../src/notify/mod.ts";
import { cli, fixture, runArgs, tempWorld } from "../fixtures/helpers.ts";

interface Received {
  path: string;
  body: string;
  headers: Headers;
}

/** A webhook receiver: `/flaky` answers 503 twice before 200; everything else 200. */
function receiver() {
  const received: Received[] = [];
  let flaky = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    received.push({ path, body: await req.text(), headers: req.headers });
    if (path === "/flaky" && ++flaky <= 2) return new Response("busy", { status: 503 });
    return new Response("ok");
  });
  return { received, url: `http://127.0.0.1:${server.addr.port}`, server };
}

/** A port nothing listens on: a server started and shut down. */
async function deadUrl(): Promise<string> {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(),
  );
  const port = server.addr.port;
  await server.shutdown();
  return `http://127.0.0.1:${port}/hook`;
}

const hook = { attempts: 3, timeout: 2, signature_header: "X-Protocol-Signature-256" };

Deno.test("notify: deliver signs the body, retries a busy server, gives up on a dead one", async () => {
  const { received, url, server } = receiver();
  try {
    const body = JSON.stringify({ event: "run.failed" });
    const ok = await deliver({ ...hook, url: `${url}/flaky` }, body, "shared-secret");
    assert.deepEqual(ok, { ok: true, attempts: 3 });
    assert.equal(received.length, 3);
    assert.equal(received[2].body, body);
    const expected = createHmac("sha256", "shared-secret").update(body).digest("hex");
    assert.equal(received[2].headers.get("x-protocol-signature-256"), `sha256=${expected}`);
    const dead = await deliver({ ...hook, url: await deadUrl() }, body, undefined);
    assert.equal(dead.ok, false);
    assert.equal(dead.attempts, 3);
    assert.doesNotMatch(dead.error ?? "", /127\.0\.0\.1/, "the URL (a credential) is not echoed");
  } finally {
    await server.shutdown();
  }
});

Deno.test("notify: a run's webhooks carry its audit seq and hash; a dead one is audited, not fatal", async () => {
  const world = await tempWorld({ prefix: "notify-" });
  const { received, url, server } = receiver();
  try {
    await Deno.writeTextFile(
      world.config,
      [
        "notify:",
        "  webhooks:",
        "    - name: audit-json",
        `      url: ${url}/json`,
        "      secret_env: TEST_WEBHOOK_SECRET",
        "    - name: chat",
        `      url: ${url}/flaky`,
        "      format: slack",
        "      events: [run.succeeded]",
        "    - name: gone",
        `      url: ${await deadUrl()}`,
        "      attempts: 2",
        "      timeout: 1",
        "",
      ].join("\n"),
      { append: true },
    );
    const secret = "webhook-secret-do-not-leak";
    const result = await cli(
      runArgs(fixture("projects", "approval"), world, "hello"),
      { env: { TEST_WEBHOOK_SECRET: secret } },
    );
    assert.equal(result.code, 0, result.stderr);
    const entries = await readAuditEntries(world.stateDir);
    const log = (await Deno.readTextFile(join(world.stateDir, "deployments.log"))).split("\n");
    const json = received.filter((r) => r.path === "/json").map((r) => JSON.parse(r.body));
    assert.deepEqual(json.map((m) => m.event), ["run.started", "run.succeeded"]);
    for (const [i, message] of json.entries()) {
      assert.equal(message.runbook, "hello");
      assert.deepEqual(message.nodes, ["local"]);
      assert.ok(message.operator);
      const line = log[message.audit_seq - 1];
      assert.equal(createHash("sha256").update(line).digest("hex"), message.audit_hash);
      const entry = entries.find((e) => e.seq === message.audit_seq)!;
      assert.equal(entry.run, message.run);
      const signature = received.filter((r) => r.path === "/json")[i].headers
        .get("x-protocol-signature-256");
      assert.equal(
        signature,
        `sha256=${createHmac("sha256", secret).update(JSON.stringify(message)).digest("hex")}`,
      );
    }
    const chat = received.filter((r) => r.path === "/flaky");
    assert.equal(chat.length, 3, "two refusals, then delivered");
    const text = JSON.parse(chat[2].body).text as string;
    assert.match(text, /\*run\.succeeded\* hello on local — status success/);
    assert.match(text, new RegExp(`audit seq ${json[1].audit_seq} sha256 ${json[1].audit_hash}`));
    for (const r of received) assert.ok(!r.body.includes(secret), "no secret in a message");
    const failed = entries.filter((e) => e.action === "notify.failed");
    assert.deepEqual(failed.map((e) => [e.webhook, e.event, e.attempts]), [
      ["gone", "run.started", 2],
      ["gone", "run.succeeded", 2],
    ]);
  } finally {
    await server.shutdown();
    await world.cleanup();
  }
});

Deno.test("notify: only the run as a whole is an event; drills report once", () => {
  assert.equal(eventOf({ action: "rollout", status: "initiated", run: "R" }, "R"), "run.started");
  assert.equal(eventOf({ action: "rollout", status: "aborted", run: "R" }, "R"), "run.aborted");
  assert.equal(eventOf({ action: "run", status: "failure", run: "R@web-1" }, "R"), undefined);
  assert.equal(eventOf({ action: "run", status: "failure", run: "R.rollback" }, "R"), undefined);
  assert.equal(
    eventOf({ action: "run", status: "success", run: "R", drill: true }, "R"),
    undefined,
  );
  assert.equal(eventOf({ action: "drill", status: "success" }, undefined), "drill.finished");
  assert.equal(eventOf({ action: "step", status: "success", run: "R" }, "R"), undefined);
  const text = JSON.parse(messageBody({
    event: "run.failed",
    status: "failure",
    ts: "t",
    runbook: "deploy",
    version: "v1.2.0",
    nodes: ["web-1", "web-2"],
    operator: "bob",
    approvers: ["alice"],
    run: "R",
    audit_seq: 7,
    audit_hash: "ab",
  }, "slack")).text;
  assert.equal(
    text,
    "*run.failed* deploy v1.2.0 on web-1, web-2 — status failure by bob, approved by alice\n" +
      "run R · audit seq 7 sha256 ab",
  );
});
