/**
 * The pure half of the shadow deploys, as data: operands, settings, state parsing and roles,
 * and the scripts (each one a valid `sh` program, with every value one quoted word).
 */
import assert from "node:assert/strict";
import { ConfigSchema } from "../../src/config/mod.ts";
import {
  parseShadowOperand,
  parseShadowState,
  ShadowNotConfiguredError,
  shadowSettings,
} from "../../src/shadow/mod.ts";
import {
  proxyAddress,
  startSlotScript,
  stateScript,
  switchScript,
  UPSTREAM_SCRIPT,
} from "../../src/shadow/scripts.ts";
import { buildSlot, describeState, slotIn } from "../../src/shadow/state.ts";
import { shadowOperation } from "../../src/runbook/shadow_step.ts";
import * as scripts from "../../src/shadow/scripts.ts";

const app = {
  dir: "/opt/my app/",
  repo: "/srv/app.git",
  health: "http://127.0.0.1:8080/health?deep=1",
  stop: "docker compose down",
};
const settings = shadowSettings(
  { start: "node server.js", ports: "9100-9102", health_timeout: 30 },
  app,
);

Deno.test("operands: the five operations, and clear words for anything else", () => {
  assert.deepEqual(parseShadowOperand(" build  v1.2.0 "), { kind: "build", version: "v1.2.0" });
  assert.deepEqual(parseShadowOperand("rollback"), { kind: "rollback" });
  assert.match(parseShadowOperand("promote") as string, /unknown shadow operation "promote"/);
  assert.match(parseShadowOperand("build") as string, /takes one release tag/);
  assert.match(parseShadowOperand("start now") as string, /takes no argument/);
  assert.match(parseShadowOperand("build v1;rm") as string, /not a release tag/);
  // validate checks a templated operand with a placeholder, and a bad verb still fails.
  assert.equal(shadowOperation.problem("build ${{ params.version }}", "."), undefined);
  assert.match(shadowOperation.problem("promote", ".") as string, /expected one of/);
});

Deno.test("settings: the live port and health path come from the node's app.health", () => {
  assert.equal(settings.appDir, "/opt/my app");
  assert.equal(settings.livePort, 8080);
  assert.equal(settings.listen, "127.0.0.1");
  assert.equal(settings.healthPath, "/health?deep=1");
  assert.deepEqual(settings.ports, [9100, 9102]);
  const named = shadowSettings(
    { start: "x", ports: "9100-9199", health_timeout: 5, live_port: 80 },
    { ...app, health: "https://app.example.com/up" },
  );
  assert.equal(named.listen, "0.0.0.0");
  assert.equal(named.livePort, 80);
  assert.throws(() => shadowSettings(undefined, app, "protocol.yaml"), ShadowNotConfiguredError);
});

Deno.test("config: a wrong shadow block names the key", () => {
  const base = {
    app: { name: "a", repo: "r", dir: "/d", start: "s", stop: "s", health: "http://h/health" },
  };
  const result = ConfigSchema.safeParse({
    ...base,
    shadow: { start: "x", ports: "9200-9100", listen: "::1", colour: "blue" },
  });
  assert.equal(result.success, false);
  const messages = result.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  assert.ok(messages.some((m) => /^shadow\.ports: shadow\.ports must go from a lower/.test(m)));
  assert.ok(messages.some((m) => /^shadow\.listen: .*IPv4/.test(m)));
  assert.ok(messages.some((m) => /colour/.test(m)));
});

Deno.test("state: roles follow live.port and the standby mark", () => {
  const text = [
    "current=v1.2.0",
    "socat=yes",
    "initialized=yes",
    "proxy_pid=40",
    "proxy=running",
    "live_port=9101",
    "standby=blue",
    "blue_version=v1.1.0",
    "blue_port=9100",
    "blue_pid=41",
    "blue_running=yes",
    "blue_healthy=yes",
    "green_version=v1.2.0",
    "green_port=9101",
    "green_pid=42",
    "green_running=yes",
    "green_healthy=yes",
    "live_healthy=yes",
  ].join("\n");
  const state = parseShadowState(text);
  assert.equal(slotIn(state, "live")?.slot, "green");
  assert.equal(slotIn(state, "standby")?.version, "v1.1.0");
  assert.equal(slotIn(state, "shadow"), undefined);
  assert.equal(buildSlot(state), "blue", "a build never goes into the live slot");
  assert.match(describeState(state, 8080)[0], /proxy on :8080 \(pid 40\) → :9101, healthy/);
  // Without the standby mark, the other slot is a shadow waiting to be promoted.
  const shadow = parseShadowState(text.replace("standby=blue", "standby="));
  assert.equal(slotIn(shadow, "shadow")?.slot, "blue");
  // Nothing yet: blue gets the first build.
  const fresh = parseShadowState("initialized=yes\nsocat=yes\nproxy=stopped");
  assert.equal(buildSlot(fresh), "blue");
  assert.equal(slotIn(fresh, "live"), undefined);
});

Deno.test("scripts: the switch is a rename of a complete file, then the bookkeeping", () => {
  const script = switchScript("/opt/it's", { port: 9101, version: "v1.2.0", standby: "blue" });
  const lines = script.split("\n");
  const rename = lines.findIndex((l) => l.includes("mv -f live.port.next live.port"));
  const current = lines.findIndex((l) => l.includes("mv -T current.next current"));
  assert.ok(rename > 0 && current > rename, "traffic switches first, current follows");
  assert.ok(lines[rename].startsWith("printf '%s\\n' 9101 > live.port.next &&"));
  assert.ok(script.includes(`app='/opt/it'\\''s'`), "the app dir is one quoted word");
  assert.ok(UPSTREAM_SCRIPT.includes(`STDIO,shut-down "TCP:127.0.0.1:$(cat live.port)"`));
  assert.equal(
    proxyAddress(settings),
    "TCP-LISTEN:8080,bind=127.0.0.1,fork,reuseaddr,backlog=128",
  );
});

Deno.test("scripts: a start command and a version stay single quoted words", () => {
  const evil = { ...settings, start: `node server.js; echo "$(id)" 'x'` };
  const script = startSlotScript(evil, "green", "v1.2.0", [8080, 9100]);
  assert.ok(script.includes(`setsid nohup sh -c 'node server.js; echo "$(id)" '\\''x'\\'''`));
  assert.ok(
    script.includes(`case " 8080 9100 " in`),
    "the live and other slot's ports are skipped",
  );
  assert.ok(script.includes("PORT=$port PROTOCOL_SLOT=green"));
});

Deno.test("scripts: a build starts as a candidate and replaces its slot only when healthy", () => {
  const candidate = startSlotScript(settings, "green", "v1.3.0", [8080, 9100], true);
  assert.ok(candidate.includes(`> "$d/green.next.pid"`), candidate);
  assert.ok(!candidate.includes("rm -f standby"), "the standby mark stays until adoption");
  const adopt = scripts.adoptCandidateScript(settings, "green");
  assert.ok(adopt.indexOf("stopped green") < adopt.indexOf('mv -f "green.next.$ext"'), adopt);
  // The switch records through the release record's own script, kind and all.
  const switched = switchScript(settings.appDir, {
    port: 9100,
    version: "v1.2.0",
    record: { kind: "shadow-rollback", operator: "ann", run: "r1" },
  });
  assert.ok(switched.includes("KIND='shadow-rollback'") && switched.includes(">> deploys.log"));
});

Deno.test("scripts: every builder produces a valid sh program", async () => {
  const built = [
    stateScript(settings, true),
    stateScript(settings),
    scripts.prepareScript(settings),
    scripts.startProxyScript(settings),
    scripts.stopSlotScript(settings, "blue"),
    scripts.fetchReleaseScript(settings, "v1.2.0"),
    startSlotScript(settings, "blue", "v1.2.0", [8080]),
    startSlotScript(settings, "blue", "v1.2.0", [8080], true),
    scripts.adoptCandidateScript(settings, "blue"),
    scripts.stopSlotScript(settings, scripts.slotFiles("blue", true)),
    switchScript(settings.appDir, {
      port: 9100,
      version: "v1.2.0",
      standby: "green",
      record: { kind: "shadow-start", operator: "ann", run: "r1" },
    }),
    scripts.waitHealthyScript(settings, {
      host: "127.0.0.1",
      port: 9100,
      seconds: 3,
      slot: "blue",
    }),
    scripts.waitHealthyScript(settings, { host: "127.0.0.1", port: 8080, seconds: 3 }),
    switchScript(settings.appDir, { port: 9100, version: "v1.2.0" }),
    scripts.stopPlainAppScript(settings),
    UPSTREAM_SCRIPT,
  ];
  for (const script of built) {
    const out = await new Deno.Command("sh", { args: ["-n", "-c", script], stderr: "piped" })
      .output();
    assert.equal(out.code, 0, `${new TextDecoder().decode(out.stderr)}\n${script}`);
  }
});
