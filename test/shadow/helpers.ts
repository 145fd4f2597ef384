/**
 * Helpers of the shadow tests: the `shadow:` block for a fleet, a probe that keeps requesting a
 * live port over a new connection each time and records every failure and every version it
 * saw, and a teardown that stops the proxies and slot apps the tests started.
 *
 * @example
 * ```ts
 * const probe = startProbe(8080);
 * // ... promote ...
 * const report = await probe.stop(); // { requests, failures: [], versions: ["v1.1.0", "v1.2.0"] }
 * ```
 * @module
 */
import { join } from "node:path";

/** The `shadow:` block that runs the demo app in slots; `ports` is a private range. */
export function shadowBlock(o: { ports: string; healthTimeout?: number }): string {
  const deno = Deno.execPath();
  return [
    "shadow:",
    `  start: ${
      JSON.stringify(`'${deno}' run --quiet --no-config --allow-net --allow-env server.ts`)
    }`,
    `  ports: ${JSON.stringify(o.ports)}`,
    `  health_timeout: ${o.healthTimeout ?? 20}`,
  ].join("\n");
}

/**
 * A port range for slots outside the kernel's ephemeral range (32768+), where the free ports
 * other tests take come from; random, so two runs on one machine rarely meet.
 */
export function slotPortRange(size = 40): string {
  const from = 20000 + Math.floor(Math.random() * 250) * size;
  return `${from}-${from + size - 1}`;
}

/** What one request through a new connection got. */
export interface ProbeAnswer {
  ok: boolean;
  version?: string;
  error?: string;
}

const encoder = new TextEncoder();

/** `GET /health` over a fresh TCP connection (HTTP/1.0: no keep-alive), with a 5 s limit. */
export async function probeOnce(port: number): Promise<ProbeAnswer> {
  let conn: Deno.TcpConn | undefined;
  const timer = setTimeout(() => conn?.close(), 5000);
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(encoder.encode(`GET /health HTTP/1.0\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
    const text = await new Response(conn.readable).text();
    conn = undefined; // the readable closed it
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
    const body = text.slice(text.indexOf("\r\n\r\n") + 4);
    const version = status ? (JSON.parse(body) as { version?: string }).version : undefined;
    return status === "200" ? { ok: true, version } : {
      ok: false,
      version,
      error: status ? `HTTP ${status}` : `no answer: ${text.slice(0, 80)}`,
    };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch {
      // already closed
    }
  }
}

/**
 * Opens a connection now and sends its request later: what it gets shows which release the
 * connection was bound to when it was opened.
 */
export async function openEarly(port: number): Promise<{ ask(): Promise<ProbeAnswer> }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  return {
    async ask() {
      try {
        await conn.write(encoder.encode(`GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n`));
        const text = await new Response(conn.readable).text();
        const version = /"version":"([^"]+)"/.exec(text)?.[1];
        return { ok: /^HTTP\/1\.[01] 200/.test(text), version };
      } catch (error) {
        return { ok: false, error: (error as Error).message };
      }
    },
  };
}

/** What a probe saw. */
export interface ProbeReport {
  requests: number;
  failures: string[];
  /** The versions answered, each change once, in order: ["v1.1.0", "v1.2.0"]. */
  versions: string[];
}

/** A running probe of a live port: `workers` loops, each a new connection per request. */
export interface Probe {
  /** Resolves once at least `n` requests were answered. */
  waitFor(n: number): Promise<void>;
  /**
   * Stops and reports. With `during` (a switch's start and end, `performance.now()`), the
   * versions leave out requests started in it: which release those get depends on when the
   * node's proxy forked for them, not on when the client started them.
   */
  stop(during?: { from: number; to: number }): Promise<ProbeReport>;
}

/** Starts probing `port` until stopped. */
export function startProbe(port: number, workers = 3): Probe {
  const report: ProbeReport = { requests: 0, failures: [], versions: [] };
  const answered: { started: number; version: string }[] = [];
  let running = true;
  const loop = async () => {
    while (running) {
      const order = performance.now();
      const answer = await probeOnce(port);
      report.requests++;
      if (!answer.ok) report.failures.push(answer.error ?? "failed");
      if (answer.version) answered.push({ started: order, version: answer.version });
    }
  };
  const loops = Array.from({ length: workers }, loop);
  return {
    async waitFor(n) {
      const target = report.requests + n;
      while (report.requests < target) await new Promise((r) => setTimeout(r, 20));
    },
    async stop(during) {
      running = false;
      await Promise.all(loops);
      const outside = answered.filter(({ started }) =>
        !during || started < during.from || started > during.to
      );
      for (const { version } of outside.sort((a, b) => a.started - b.started)) {
        if (report.versions.at(-1) !== version) report.versions.push(version);
      }
      return report;
    },
  };
}

/** Stops every proxy and slot app under an app directory (whole process groups). */
export async function stopShadow(appDir: string): Promise<void> {
  for (const name of ["proxy", "blue", "green"]) {
    const pid = await Deno.readTextFile(join(appDir, "shadow", `${name}.pid`))
      .then((text) => Number(text.trim()), () => 0);
    if (!pid) continue;
    for (const target of [-pid, pid]) {
      try {
        Deno.kill(target, "SIGKILL");
      } catch {
        // not a group leader, or already gone
      }
    }
  }
}
