/**
 * Test helpers for witnesses: the real `witness:serve` command on a free loopback port.
 *
 * @example
 * ```ts
 * const w = await startHttpWitness(dir);
 * // ... w.url
 * await w.stop();
 * ```
 * @module
 */
import { fileURLToPath } from "node:url";
import { freePort } from "../../src/demo/app.ts";
import { denoScript } from "./helpers.ts";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

/** A running witness server. */
export interface HttpWitnessProcess {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

/** Starts `main.ts witness:serve --dir <dir>/witness --port <free>` and waits until it answers. */
export async function startHttpWitness(dir: string): Promise<HttpWitnessProcess> {
  const port = freePort();
  const store = `${dir}/witness`;
  const child = denoScript(MAIN, ["witness:serve", "--dir", store, "--port", String(port)], {
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0;; i++) {
    try {
      const res = await fetch(`${url}/checkpoints?origin=x`);
      await res.body?.cancel();
      break;
    } catch {
      if (i > 300) throw new Error("witness:serve did not start");
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    dir: store,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}
