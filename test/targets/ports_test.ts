/**
 * The test fixtures' port leases (test/fixtures/ports.ts): ports below the ephemeral range,
 * never handed out twice while held, a claim whose process is gone taken over, and a port that
 * something else listens on skipped.
 */
import assert from "node:assert/strict";
import { leasePort } from "../fixtures/ports.ts";

const CLAIMS = "/tmp/protocol-test-ports";

Deno.test("port leases", async (t) => {
  await t.step("held leases never share a port; each is claimed by this process", async () => {
    const leases = await Promise.all(Array.from({ length: 20 }, () => leasePort()));
    try {
      assert.equal(new Set(leases.map((l) => l.port)).size, 20);
      const [low] = (await Deno.readTextFile("/proc/sys/net/ipv4/ip_local_port_range")).split(
        /\s+/,
      );
      for (const { port } of leases) {
        assert.ok(port < Number(low), `${port} is in the ephemeral range`);
        assert.equal((await Deno.readTextFile(`${CLAIMS}/${port}`)).trim(), String(Deno.pid));
      }
    } finally {
      await Promise.all(leases.map((l) => l.release()));
    }
    for (const { port } of leases) {
      assert.equal(await Deno.stat(`${CLAIMS}/${port}`).then(() => true, () => false), false);
    }
  });

  await t.step("a port something listens on is not handed out", async () => {
    const free = await leasePort();
    await free.release();
    const listener = Deno.listen({ hostname: "127.0.0.1", port: free.port });
    try {
      await assert.rejects(
        () => leasePort({ first: free.port, last: free.port }),
        /no free loopback port/,
      );
    } finally {
      listener.close();
    }
  });

  await t.step("a port held by a lease is not handed out again", async () => {
    const held = await leasePort();
    try {
      await assert.rejects(
        () => leasePort({ first: held.port, last: held.port }),
        /no free loopback port/,
      );
    } finally {
      await held.release();
    }
  });

  await t.step("a claim left by a process that is gone is taken over", async () => {
    const gone = new Deno.Command("true").spawn();
    await gone.status;
    const free = await leasePort();
    await free.release();
    await Deno.writeTextFile(`${CLAIMS}/${free.port}`, `${gone.pid}\n`);
    const lease = await leasePort({ first: free.port, last: free.port });
    assert.equal((await Deno.readTextFile(`${CLAIMS}/${lease.port}`)).trim(), String(Deno.pid));
    await lease.release();
  });
});
