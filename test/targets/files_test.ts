/**
 * Putting a file on a target: written whole, with its mode, or not at all — input cut short
 * (a dropped connection, a stopped step) never replaces the file.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { putFile, putFileScript } from "../../src/targets/files.ts";
import { LocalTarget } from "../../src/targets/local.ts";
import { eventually } from "../fixtures/helpers.ts";

Deno.test("putFile writes the bytes whole, with the mode asked for", async () => {
  const dir = await Deno.makeTempDir({ prefix: "put-file-" });
  try {
    const dest = join(dir, "conf", "app.env");
    const bytes = new TextEncoder().encode("A=1\nB='two words'\n");
    const written = await putFile(new LocalTarget(), dest, bytes, { mode: 0o640, dirMode: 0o750 });
    assert.equal(written, dest);
    assert.deepEqual(await Deno.readFile(dest), bytes);
    assert.equal((await Deno.stat(dest)).mode! & 0o777, 0o640);
    assert.equal((await Deno.stat(join(dir, "conf"))).mode! & 0o777, 0o750);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("input cut short is refused: the old file stays, no temporary file is left", async () => {
  const dir = await Deno.makeTempDir({ prefix: "put-file-" });
  try {
    const dest = join(dir, "app.env");
    await Deno.writeTextFile(dest, "OLD=1\n");
    // What the node's shell runs when the connection drops after 5 of 12 bytes.
    const child = new Deno.Command("/bin/sh", {
      args: ["-c", putFileScript()],
      env: { DEST: dest, SIZE: "12" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("NEW=1"));
    await writer.close();
    const out = await child.output();
    assert.notEqual(out.code, 0);
    assert.match(new TextDecoder().decode(out.stderr), /received 5 of 12 bytes/);
    assert.equal(await Deno.readTextFile(dest), "OLD=1\n");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["app.env"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a put stopped mid-upload (TERM) leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "put-file-" });
  try {
    const dest = join(dir, "app.env");
    await Deno.writeTextFile(dest, "OLD=1\n");
    // The node's /bin/sh (dash on Debian) with half a secret received, then the step's process
    // group is stopped, as a timeout or Ctrl-C does (setsid: the script leads its own group).
    const child = new Deno.Command("setsid", {
      args: ["/bin/sh", "-c", putFileScript()],
      env: { DEST: dest, SIZE: "24" },
      stdin: "piped",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("DB_PASSWORD="));
    const partial = () => [...Deno.readDirSync(dir)].some((e) => e.name.includes("protocol-tmp"));
    assert.ok(await eventually(partial), "the upload never started");
    Deno.kill(-child.pid, "SIGTERM");
    assert.notEqual((await child.status).code, 0);
    await writer.close().catch(() => {});
    assert.equal(await Deno.readTextFile(dest), "OLD=1\n");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["app.env"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
