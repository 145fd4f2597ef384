/**
 * The controller's side of a framed shell, fed by hand (no process): a stop asked for before the
 * step's pid is known waits for it.
 */
import assert from "node:assert/strict";
import { FramedShell } from "../../src/targets/framed_shell.ts";

/** A framed shell whose frames go nowhere: the test plays the shell with `feed`. */
function fedShell() {
  const frames: string[] = [];
  const writer = new WritableStream<Uint8Array>({
    write: (chunk) => void frames.push(new TextDecoder().decode(chunk)),
  }).getWriter();
  return { shell: new FramedShell(writer, { pidMarker: true, killGraceMs: 60_000 }), frames };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("framed shell: a stop before the pid is known waits for it", async () => {
  const { shell } = fedShell();
  const m = shell.marker;
  const stops: [string, number | undefined][] = [];
  const abort = new AbortController();
  const running = shell.run(
    { script: "x", signal: abort.signal },
    "x\n",
    (signal, pid) => void stops.push([signal, pid]),
  );
  abort.abort();
  await tick();
  assert.deepEqual(stops, [], "no pid yet: nothing to signal");
  shell.feed("stdout", `\n${m} pid 7\n`);
  assert.deepEqual(stops, [["TERM", 7]]);
  shell.feed("stdout", `\n${m} 143\n`);
  shell.feed("stderr", `\n${m}\n`);
  const end = await running;
  assert.equal(end.aborted, true);
});
