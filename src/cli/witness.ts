/**
 * `witness:serve`: the reference HTTP witness. Run it on a machine the deploy user cannot log
 * into, and name it in `protocol.yaml` (`audit.witness.http`).
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { registerWitnessCommand } from "./witness.ts";
 * const program = new Command();
 * registerWitnessCommand(program);
 * ```
 * @module
 */
import type { Command } from "commander";
import { witnessHandler } from "../audit/witness/server.ts";
import { UsageError } from "../errors.ts";

/**
 * Adds `witness:serve`.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * registerWitnessCommand(new Command("protocol"));
 * ```
 */
export function registerWitnessCommand(program: Command): void {
  program.command("witness:serve")
    .description(
      "Serve an HTTP witness: POST /add-checkpoint (C2SP tlog-witness body) stores a checkpoint " +
        "consistent with the latest one it holds (else 409/422); GET /checkpoints?origin=O lists them",
    )
    .requiredOption("--dir <dir>", "where checkpoints are stored")
    .option("--port <port>", "TCP port", "8700")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .action(async (o: { dir: string; port: string; host: string }) => {
      if (!/^\d+$/.test(o.port) || Number(o.port) > 65535) {
        throw new UsageError(`--port must be a TCP port number, got ${JSON.stringify(o.port)}`);
      }
      await Deno.mkdir(o.dir, { recursive: true, mode: 0o700 });
      const server = Deno.serve({
        hostname: o.host,
        port: Number(o.port),
        onListen: ({ hostname, port }) =>
          console.error(`witness listening on http://${hostname}:${port}/ (store: ${o.dir})`),
      }, witnessHandler(o.dir));
      const stop = () => server.shutdown();
      Deno.addSignalListener("SIGINT", stop);
      Deno.addSignalListener("SIGTERM", stop);
      await server.finished;
    });
}
