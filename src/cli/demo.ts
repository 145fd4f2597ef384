/**
 * `deno task demo`: the main job on an embedded default. Builds a throwaway app repository
 * (releases v1.1.0, v1.2.0 and a broken v1.3.0), deploys v1.2.0 with SOP 1, shows the health
 * check pass, deploys v1.3.0 and watches it fail its success criteria and roll back by itself —
 * through the same commands a user types.
 *
 * @example
 * ```sh
 * deno task demo          # runs the scenario, then removes the throwaway directory
 * deno task demo --keep   # leaves the directory and the app running, to look around
 * ```
 * @module
 */
import type { Command } from "commander";
import { createDemoWorld, type DemoWorld, stopDemoApp } from "../demo/app.ts";
import { generateSigningKey } from "../audit/mod.ts";
import { ensureStateDir } from "../state/mod.ts";

/** Adds the `demo` command; `main` runs other commands exactly as the CLI would. */
export function registerDemoCommand(
  program: Command,
  main: (args: string[]) => Promise<number>,
): void {
  program.command("demo")
    .description(
      "deploy a throwaway app: v1.2.0 passes, v1.3.0 fails its health check and rolls back",
    )
    .option("--keep", "keep the throwaway directory and leave the app running")
    .action(async (options: { keep?: boolean }) => {
      const dir = await Deno.makeTempDir({ prefix: "protocol-demo-" });
      const world = await createDemoWorld(dir);
      const say = (text: string) => console.error(`\n\x1b[1m== ${text}\x1b[0m`);
      let ok = false;
      try {
        await ensureStateDir(world.stateDir);
        const key = await generateSigningKey(world.stateDir);
        say(`Demo world in ${dir}`);
        console.error(
          `  app repository ${world.repo} (tags v1.1.0, v1.2.0, v1.3.0 — v1.3.0 is broken)`,
        );
        console.error(`  configuration  ${world.config}`);
        console.error(`  audit key      ${key.kid} in ${world.stateDir}`);
        const cli = async (...args: string[]) => {
          Deno.exitCode = 0;
          const code = await main([...args, "--state-dir", world.stateDir]);
          Deno.exitCode = 0;
          return code;
        };
        const runArgs = (
          version: string,
        ) => ["run", "deploy", version, "--yes", "--config", world.config];

        say("deno task sop:deploy v1.2.0");
        const first = await cli(...runArgs("v1.2.0"));
        const healthy = await health(world);
        console.error(`  health: ${healthy}`);

        say(
          "deno task sop:deploy v1.3.0  (broken release: expect a failed health check and a rollback)",
        );
        const second = await cli(...runArgs("v1.3.0"));
        const after = await health(world);
        console.error(`  health after the rollback: ${after}`);

        say("deno task deploy:log");
        await cli("deploy:log", "--limit", "6");
        say("deno task audit:verify");
        const verified = await cli("audit:verify");

        ok = first === 0 && second === 1 && after.includes('"version":"v1.2.0"') && verified === 0;
        say(
          ok
            ? "Demo finished as expected: v1.2.0 live, v1.3.0 rolled back, audit log verified"
            : `Demo did not go as expected (exit codes: ${first}, ${second}, verify ${verified})`,
        );
      } finally {
        if (options.keep) {
          console.error(`\nKept ${dir}; the app still answers on ${world.healthUrl}.`);
          console.error(`Stop it with: kill $(cat ${world.pidFile}); rm -rf ${dir}`);
        } else {
          await stopDemoApp(world);
          await Deno.remove(dir, { recursive: true });
        }
      }
      Deno.exitCode = ok ? 0 : 1;
    });
}

async function health(world: DemoWorld): Promise<string> {
  try {
    const response = await fetch(world.healthUrl);
    return `${response.status} ${await response.text()}`;
  } catch (error) {
    return `unreachable (${(error as Error).message})`;
  }
}
