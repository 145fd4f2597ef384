/**
 * The health probe of the shadow scripts (`answer`/`healthy`: `shadow:status`, builds,
 * switches) through the real front proxy, run locally with `sh` as a node runs them, to a slot
 * app on Deno's HTTP server that takes a while to answer, as a busy node's app does. The probe
 * used to half-close its connection once the request was sent; the proxy passed that on, and
 * Deno's server (hyper) drops a half-closed connection whose answer is still pending — so
 * status called a healthy live release "NOT HEALTHY" (issue 15, a fresh, loaded node).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseShadowState, shadowSettings } from "../../src/shadow/mod.ts";
import { prepareScript, startProxyScript, stateScript } from "../../src/shadow/scripts.ts";
import { leasePort } from "../fixtures/ports.ts";
import { stopShadow } from "./helpers.ts";

/** Slow enough that the server sees a half-close before it answers; under the probe's 5 s. */
const SLOW_MS = 1500;

async function sh(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command("sh", {
    args: ["-c", script],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

// The proxy on `live` in front of the one slot on `slot`.
function proxySettings(appDir: string, live: number, slot: number) {
  return shadowSettings(
    { start: "true", ports: `${slot}-${slot}`, health_timeout: 5 },
    {
      dir: appDir,
      repo: "/nonexistent.git",
      health: `http://127.0.0.1:${live}/health`,
      stop: "true",
    },
  );
}

Deno.test("health probe: a slow live release behind the proxy is healthy", async () => {
  const appDir = await Deno.makeTempDir({ prefix: "shadow-proxy-" });
  const live = await leasePort();
  const slot = await leasePort();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: slot.port, onListen() {} },
    async () => {
      await new Promise((resolve) => setTimeout(resolve, SLOW_MS));
      return Response.json({ version: "v1.1.0" });
    },
  );
  const settings = proxySettings(appDir, live.port, slot.port);
  try {
    const prepared = await sh(prepareScript(settings));
    assert.equal(prepared.code, 0, prepared.stderr);
    await Deno.writeTextFile(join(appDir, "shadow", "live.port"), `${slot.port}\n`);
    const started = await sh(startProxyScript(settings));
    assert.equal(started.code, 0, started.stderr);

    const status = await sh(stateScript(settings, true));
    assert.equal(status.code, 0, status.stderr);
    const state = parseShadowState(status.stdout);
    assert.equal(state.proxy.running, true, status.stdout);
    assert.equal(state.liveHealthy, true, `the proxy cut the slow answer:\n${status.stdout}`);
  } finally {
    await stopShadow(appDir);
    await server.shutdown();
    await live.release();
    await slot.release();
    await Deno.remove(appDir, { recursive: true });
  }
});

Deno.test("proxy: a slow answer reaches the client whole, and its end too, half-closed or not", async () => {
  // A client may shut down its sending side once its request is out (`nc -N`, many RPC
  // clients) and still wait for the answer: socat, by default, closed such a connection 0.5 s
  // after the half-close, so an answer slower than that never reached it. And a client that
  // keeps its side open must still see the end of the answer when the app closes, not 60 s on.
  const appDir = await Deno.makeTempDir({ prefix: "shadow-halfclose-" });
  const live = await leasePort();
  const slot = await leasePort();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: slot.port });
  const serving = (async () => {
    for await (const conn of listener) {
      (async () => {
        const buf = new Uint8Array(1024);
        const n = await conn.read(buf); // the request: one short write
        await new Promise((resolve) => setTimeout(resolve, SLOW_MS));
        const w = new TextEncoder().encode(
          `answer to ${new TextDecoder().decode(buf.subarray(0, n ?? 0))}`,
        );
        try {
          for (let off = 0; off < w.length;) off += await conn.write(w.subarray(off));
        } finally {
          conn.close();
        }
      })().catch(() => {});
    }
  })();
  const settings = proxySettings(appDir, live.port, slot.port);
  // The answer up to its end, or the reason it did not come within 10 s (the proxy waits 60).
  const ask = async (halfClose: boolean): Promise<string> => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: live.port });
    await conn.write(new TextEncoder().encode("ping"));
    if (halfClose) await conn.closeWrite();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve("no end of the answer within 10 s"), 10_000);
    });
    const answer = (async () => {
      const buf = new Uint8Array(1024);
      let text = "";
      for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
        text += new TextDecoder().decode(buf.subarray(0, n));
      }
      return text;
    })();
    try {
      return await Promise.race([answer, late]);
    } finally {
      clearTimeout(timer);
      conn.close();
      await answer.catch(() => {});
    }
  };
  try {
    assert.equal((await sh(prepareScript(settings))).code, 0);
    await Deno.writeTextFile(join(appDir, "shadow", "live.port"), `${slot.port}\n`);
    const started = await sh(startProxyScript(settings));
    assert.equal(started.code, 0, started.stderr);
    assert.equal(await ask(true), "answer to ping", "half-closed client");
    assert.equal(await ask(false), "answer to ping", "client that keeps its side open");
  } finally {
    await stopShadow(appDir);
    listener.close();
    await serving.catch(() => {});
    await live.release();
    await slot.release();
    await Deno.remove(appDir, { recursive: true });
  }
});
