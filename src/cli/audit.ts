/**
 * CLI commands for the audit log: keygen, verify, checkpoint, key and log rotation, and
 * the human history (`deploy:log`). Exit codes: 0 ok, 1 verification failed or operation
 * refused, 2 bad input (missing files, bad arguments).
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { registerAuditCommands } from "./audit.ts";
 * const program = new Command();
 * registerAuditCommands(program);
 * await program.parseAsync(["audit:verify", "--json"], { from: "user" });
 * ```
 * @module
 */
import type { Command } from "commander";
import { resolveStateDir } from "../state/mod.ts";
import { type Config, findConfig, loadConfig } from "../config/mod.ts";
import { witnessSettings } from "./audit_seal.ts";
import {
  AuditInputError,
  formatSeedLine,
  generateSigningKey,
  readAuditEntries,
  rotateLog,
  rotateSigningKey,
  verifyAuditLog,
  writeCheckpoint,
} from "../audit/mod.ts";
import { verifyExportedLines } from "../audit/received.ts";

/** Entries that record how a run went, step by step, rather than what it changed. */
const RUN_DETAIL = new Set(["run", "step"]);

const STATE_DIR_HELP = "state directory (default: $PROTOCOL_STATE_DIR, else ~/.protocol)";

/**
 * Adds the audit commands to a commander program.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * const program = new Command("protocol");
 * registerAuditCommands(program);
 * ```
 */
export function registerAuditCommands(program: Command): void {
  program.command("audit:keygen")
    .description(
      "Create the Ed25519 audit signing key (refuses to overwrite one; see audit:rotate-key)",
    )
    .option("--state-dir <dir>", STATE_DIR_HELP)
    .option("--json", "print {kid, publicKeyPem} as JSON")
    .action(async (o: { stateDir?: string; json?: boolean }) => {
      const r = await generateSigningKey(resolveStateDir(o));
      if (o.json) return print(JSON.stringify(r));
      print(`audit signing key created: kid ${r.kid}`);
      print(r.publicKeyPem.trimEnd());
      print(
        "This is the trust root. Keep a copy OFF this host (it is what a deploy user cannot " +
          "forge); verify with `audit:verify --pubkey FILE`.",
      );
    });

  program.command("audit:verify")
    .description(
      "Verify the audit log (rotated files + live log): canonical bytes, seq, hash chain, " +
        "signatures, key seq ranges, and every checkpoint the configured witnesses hold. " +
        "Exit 0 valid, 1 tampered, 2 bad input",
    )
    .option("--state-dir <dir>", STATE_DIR_HELP)
    .option("--config <file>", "protocol.yaml naming the witnesses (default: found as usual)")
    .option(
      "--pubkey <file>",
      "trust root (PEM, base64 raw, or a keyring JSON) kept off the host",
    )
    .option(
      "--checkpoint <file>",
      "C2SP checkpoint to check against (repeatable)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option("--no-witness", "do not read the configured witnesses")
    .option("--json", "print the result as JSON")
    .option(
      "--stdin",
      "verify exported lines read from stdin (a SIEM's copy, from seq 1) instead; needs --pubkey",
    )
    .action(
      async (
        o: {
          stateDir?: string;
          config?: string;
          pubkey?: string;
          checkpoint?: string[];
          witness: boolean;
          json?: boolean;
          stdin?: boolean;
        },
      ) => {
        if (o.stdin && o.checkpoint) {
          throw new AuditInputError(
            "--checkpoint checks the local log; it cannot go with --stdin",
          );
        }
        // Bad input throws: exit 2, and with --json said on stdout too (cli/errors.ts).
        const config = o.witness && !o.stdin ? await optionalConfig(o.config) : undefined;
        const r = o.stdin
          ? await verifyExportedLines(await new Response(Deno.stdin.readable).bytes(), o.pubkey)
          : await verifyAuditLog(resolveStateDir(o), {
            pubkeyFile: o.pubkey,
            checkpointFiles: o.checkpoint,
            witness: witnessSettings(config),
          });
        Deno.exitCode = r.ok ? 0 : 1;
        if (o.json) return print(JSON.stringify(r));
        if (!r.ok) {
          const b = r.firstBad!;
          return print(
            `FAILED: line ${b.line} of ${b.file}: ${b.reason} (${b.detail}); ${r.entries} entries verified before it`,
          );
        }
        print(`ok: ${r.entries} entries verified in ${r.files.length} file(s)`);
        if (r.entries) print(`first: ${r.firstTs}\nlast:  ${r.lastTs}`);
        print(`keys:  ${r.keys.join(", ") || "(none)"}`);
        if ("duplicates" in r && r.duplicates) {
          print(`duplicates: ${r.duplicates} exact copies of earlier lines ignored`);
        }
        for (const c of r.checkpoints) {
          print(`checkpoint: ${c.size} entries matched (${c.source})`);
        }
      },
    );

  program.command("audit:checkpoint")
    .description(
      "Verify the log, then sign a C2SP checkpoint (origin, size, Merkle root), keep it in " +
        "<state-dir>/checkpoints/ and publish it to the witnesses in protocol.yaml. " +
        "Exit 1 if the log does not verify or a witness did not take it",
    )
    .option("--state-dir <dir>", STATE_DIR_HELP)
    .option("--config <file>", "protocol.yaml naming the witnesses (default: found as usual)")
    .option("--out <file>", "where to write the checkpoint")
    .option("--json", "print the result as JSON")
    .action(
      async (o: { stateDir?: string; config?: string; out?: string; json?: boolean }) => {
        const config = await optionalConfig(o.config);
        const r = await writeCheckpoint(resolveStateDir(o), {
          out: o.out,
          witness: witnessSettings(config),
        });
        if (r.published.some((p) => !p.ok)) Deno.exitCode = 1;
        if (o.json) return print(JSON.stringify(r));
        Deno.stdout.writeSync(new TextEncoder().encode(r.text));
        console.error(`checkpoint written to ${r.path}`);
        for (const p of r.published.filter((p) => p.ok)) console.error(`published to ${p.witness}`);
      },
    );

  program.command("audit:rotate-key")
    .description(
      "Replace the signing key: a key.rotated entry signed by the old key announces the new one",
    )
    .option("--state-dir <dir>", STATE_DIR_HELP)
    .option("--json", "print the result as JSON")
    .action(async (o: { stateDir?: string; json?: boolean }) => {
      const r = await rotateSigningKey(resolveStateDir(o), "manual");
      if (o.json) return print(JSON.stringify(r));
      print(`audit signing key rotated at seq ${r.seq}: ${r.oldKid} -> ${r.kid}`);
      print(r.publicKeyPem.trimEnd());
    });

  program.command("audit:rotate-log")
    .description(
      "Move deployments.log to deployments.log.<N> (1 = oldest) and continue the chain in a new file; " +
        "audit:verify checks all files as one history",
    )
    .option("--state-dir <dir>", STATE_DIR_HELP)
    .option("--json", "print the result as JSON")
    .action(async (o: { stateDir?: string; json?: boolean }) => {
      const r = await rotateLog(resolveStateDir(o));
      if (o.json) return print(JSON.stringify(r));
      print(
        r
          ? `rotated to ${r.rotatedTo}; the new log starts at seq ${r.seq}`
          : "nothing to rotate: the log is empty",
      );
    });

  program.command("deploy:log")
    .description("Show the deployment history, one line per entry (newest last)")
    .option("--state-dir <dir>", STATE_DIR_HELP)
    .option("--limit <n>", "show only the last N entries")
    .option("--action <action>", "only entries with this action (deploy, rollback, run, ...)")
    .option("--all", "include the run and step entries behind each action")
    .option("--verbose", "also show seq, host, user and kid")
    .option("--json", "print entries as a JSON array")
    .action(
      async (
        o: {
          stateDir?: string;
          limit?: string;
          action?: string;
          verbose?: boolean;
          json?: boolean;
          all?: boolean;
        },
      ) => {
        const limit = o.limit === undefined ? undefined : nonNegativeInt(o.limit, "--limit");
        let entries = await readAuditEntries(resolveStateDir(o));
        if (o.action) entries = entries.filter((e) => e.action === o.action);
        // The history reads like the seed's log: deploys, rollbacks, config changes. The run
        // and step entries that evidence each of them show with --all or --action.
        else if (!o.all) entries = entries.filter((e) => !RUN_DETAIL.has(String(e.action)));
        if (limit !== undefined) entries = limit === 0 ? [] : entries.slice(-limit);
        if (o.json) return print(JSON.stringify(entries));
        if (entries.length) {
          print(entries.map((e) => formatSeedLine(e, { verbose: o.verbose })).join("\n"));
        }
      },
    );
}

// The configuration is optional for audit commands: without one there is no witness.
async function optionalConfig(file?: string): Promise<Config | undefined> {
  const path = await findConfig({ config: file });
  // A ConfigError (file:line:col of each problem) is mapped to exit 2 by main.
  return path ? await loadConfig(path) : undefined;
}

/** A flag's value as a whole number of 0 or more; anything else is bad input (exit 2). */
export function nonNegativeInt(s: string, flag: string): number {
  if (!/^\d+$/.test(s)) {
    throw new AuditInputError(`${flag} must be a non-negative integer, got ${JSON.stringify(s)}`);
  }
  return Number(s);
}

function print(s: string): void {
  console.log(s);
}
