/**
 * The drill's sandbox: a throwaway copy of the demo world on the local target — app repository,
 * app directory with a deployed release, a state directory with its own encryption key, audit
 * signing key and audit log — so a drill can plant real faults without touching anything real.
 * Every audit entry written inside it is marked `drill: true`.
 *
 * @example
 * ```ts
 * import { createSandbox } from "./sandbox.ts";
 * import { localEngine } from "../runbook/local_engine.ts";
 * const sandbox = await createSandbox(localEngine(Deno.cwd()), ["v1.2.0"]);
 * try { console.log(sandbox.site.release); } finally { await sandbox.destroy(); }
 * ```
 * @module
 */
import { auditJournal } from "../audit/journal.ts";
import { type Journal } from "../journal.ts";
import { mustRun } from "../proc/mod.ts";
import { join } from "node:path";
import { generateSigningKey } from "../audit/mod.ts";
import { type Config, loadConfig } from "../config/mod.ts";
import { appCommands, createDemoWorld, type DemoWorld, stopDemoApp } from "../demo/app.ts";
import type { RunbookEngine } from "./engine.ts";
import { ensureStateDir } from "../state/mod.ts";
import { LocalTarget } from "../targets/local.ts";
import type { FaultSite } from "./faults.ts";

/** A built sandbox. */
export interface Sandbox {
  dir: string;
  world: DemoWorld;
  config: Config;
  /** The sandbox's own audit log, every entry marked as drill. */
  journal: Journal;
  site: FaultSite;
  /** The sandbox's own state directory (key, signing key, audit log). */
  stateDir: string;
  /** Stops the app and removes the directory; returns what could not be removed. */
  destroy(): Promise<string | undefined>;
}

/**
 * A journal whose every entry carries `drill: true` (and the drill's id), so no entry a drill
 * causes can be read as a real incident, deploy or audit.
 *
 * @example
 * ```ts
 * // const journal = drillJournal(auditJournal(stateDir), "compromised-node");
 * ```
 */
export function drillJournal(inner: Journal, drill: string): Journal {
  return { record: (fields) => inner.record({ ...fields, drill: true, drill_id: drill }) };
}

/**
 * Builds a sandbox that deployed each of `releases` in turn and runs the last one. Throws
 * (after cleaning up) when it cannot.
 */
export async function createSandbox(
  engine: RunbookEngine,
  releases: string[],
  drill = "drill",
): Promise<Sandbox> {
  const release = releases.at(-1)!;
  const dir = await Deno.makeTempDir({ prefix: "protocol-drill-" });
  let world: DemoWorld | undefined;
  try {
    world = await createDemoWorld(dir);
    const stateDir = await ensureStateDir(world.stateDir);
    const key = [...crypto.getRandomValues(new Uint8Array(32))]
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    await Deno.writeTextFile(join(stateDir, "key"), key, { mode: 0o600 });
    await generateSigningKey(stateDir);
    const config = await loadConfig(world.config);
    const journal = drillJournal(auditJournal(stateDir), drill);
    for (const version of releases) {
      const record = await engine.run("deploy", { version }, { config, stateDir, journal });
      if (record.status !== "success") {
        throw new Error(`the sandbox could not deploy ${version}: ${record.reason}`);
      }
    }
    const w = world;
    const healthy = async () => {
      try {
        const response = await fetch(w.healthUrl);
        await response.body?.cancel();
        return response.status === 200;
      } catch {
        return false;
      }
    };
    const site: FaultSite = {
      target: new LocalTarget(),
      release: join(w.appDir, "current"),
      appDir: w.appDir,
      keyFile: join(stateDir, "key"),
      auditStateDir: stateDir,
      healthy,
      async restartApp(faulty) {
        const commands = appCommands({
          appDir: w.appDir,
          port: w.port,
          fault: faulty ? release : undefined,
        });
        await mustRun(["sh", "-c", commands.stop], { cwd: site.release });
        await mustRun(["sh", "-c", commands.start], { cwd: site.release });
        // Up when it answers at all (a faulty release answers 503).
        for (let i = 0; i < 100; i++) {
          const up = await fetch(w.healthUrl).then(async (r) => {
            await r.body?.cancel();
            return true;
          }, () => false);
          if (up) return;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      },
    };
    return {
      dir,
      world: w,
      config,
      journal,
      site,
      stateDir,
      async destroy() {
        await stopDemoApp(w);
        await Deno.remove(dir, { recursive: true }).catch(() => undefined);
        const left = await Deno.lstat(dir).then(() => true, () => false);
        return left ? `${dir} could not be removed` : undefined;
      },
    };
  } catch (error) {
    if (world) await stopDemoApp(world);
    await Deno.remove(dir, { recursive: true }).catch(() => undefined);
    throw error;
  }
}
