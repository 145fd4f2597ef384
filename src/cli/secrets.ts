/**
 * The secrets commands: `secrets:setup`, `secrets:encrypt`, `secrets:decrypt`, `secrets:key`,
 * `key:generate`, `cron:add`, `cron:remove`, and (from ./config_repo.ts) `config:switch`,
 * `config:init`, `config:save`, `config:refresh`. Each change writes one signed audit entry.
 *
 * Exit codes: 0 done, 1 refused or failed (existing key, wrong key, git failure), 2 bad input.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { registerSecretsCommands } from "./secrets.ts";
 * const program = new Command();
 * registerSecretsCommands(program);
 * await program.parseAsync(["secrets:setup"], { from: "user" });
 * ```
 * @module
 */
import { UsageError } from "../errors.ts";
import type { Command } from "commander";
import {
  type Config,
  findConfig,
  loadConfig,
  type NodeConfig,
  requireConfig,
  SshSchema,
} from "../config/mod.ts";
import { installKey } from "../secrets/distribute.ts";
import { stateDirOn } from "../targets/files.ts";
import { TargetPool } from "../targets/pool.ts";
import {
  cronAdd,
  cronRemove,
  decryptFileToBytes,
  encryptFile,
  generateDeployKey,
  plaintextName,
  readKey,
  readKeyHex,
  rebootEntry,
  SecretsRefusedError,
  storeKey,
} from "../secrets/mod.ts";
import { writeFileAtomic } from "../secrets/files.ts";
import { hostName, operator, resolveStateDir } from "../state/mod.ts";
import { registerConfigCommands } from "./config_repo.ts";
import { audited, STATE_DIR_HELP } from "./secrets_audit.ts";
import { cronEntry, secretsEntry } from "../audit/actions.ts";

/** The operator's machine, as runbook steps name it. */
const LOCAL = "local";

interface StateOptions {
  stateDir?: string;
}

/**
 * Adds the secrets, key, cron and config commands to a commander program.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * registerSecretsCommands(new Command("protocol"));
 * ```
 */
export function registerSecretsCommands(program: Command): void {
  program.command("secrets:setup")
    .description(
      "Create the encryption key (or store HEXKEY, 64 hex characters; `-` reads it from stdin) " +
        "at <state-dir>/key, mode 0600; refuses to replace a key unless --rotate",
    )
    .argument("[hexkey]", "the key to store (prefer `-` and stdin: arguments show in `ps`)")
    .option("--rotate", "replace an existing key, keeping the old one as key.old-<time>")
    .option("--state-dir <dir>", STATE_DIR_HELP)
    .action(async (hexkey: string | undefined, o: StateOptions & { rotate?: boolean }) => {
      const stateDir = resolveStateDir(o);
      const given = hexkey === "-" ? await new Response(Deno.stdin.readable).text() : hexkey;
      const operation = o.rotate ? "rotate" : "setup";
      const subject = { operation, target: LOCAL };
      const stored = await audited(stateDir, (e) => secretsEntry(subject, e), async () => {
        const r = await storeKey(stateDir, given, { rotate: o.rotate });
        return { file: r.path, ...(r.previous ? { previous: r.previous } : {}) };
      });
      print(
        `encryption key ${given === undefined ? "created" : "stored"} at ${stored.file} ` +
          "(mode 0600, directory 0700)",
      );
      if (stored.previous) {
        print(
          `the previous key is kept at ${stored.previous} (mode 0600): re-encrypt every ` +
            "environment with the new key (SOP 7), then remove it",
        );
      } else if (!o.rotate && given === undefined) {
        print("back it up in your password manager: `deno task secrets:key`");
      }
    });

  program.command("secrets:encrypt")
    .description("Encrypt FILE to FILE.enc (AES-256-GCM envelope); the plaintext is kept")
    .argument("<file>", "the plaintext file")
    .option("-o, --out <file>", "where to write the envelope (default: FILE.enc)")
    .option("--state-dir <dir>", STATE_DIR_HELP)
    .action(async (file: string, o: StateOptions & { out?: string }) => {
      const stateDir = resolveStateDir(o);
      const r = await audited(
        stateDir,
        (e) => secretsEntry({ operation: "encrypt", target: LOCAL, file }, e),
        async () => {
          return { to: await encryptFile(await readKey(stateDir), file, o.out) };
        },
      );
      print(`encrypted ${file} -> ${r.to}`);
    });

  program.command("secrets:decrypt")
    .description("Decrypt FILE.enc to FILE (mode 0600), or to stdout with --stdout")
    .argument("<file>", "the encrypted file")
    .option("-o, --out <file>", "where to write the plaintext (default: FILE without .enc)")
    .option("--stdout", "print the plaintext instead of writing a file (warns on stderr)")
    .option("--force", "overwrite an existing plaintext file")
    .option("--state-dir <dir>", STATE_DIR_HELP)
    .action(async (
      file: string,
      o: StateOptions & { out?: string; stdout?: boolean; force?: boolean },
    ) => {
      const stateDir = resolveStateDir(o);
      const to = o.stdout ? "stdout" : o.out ?? plaintextName(file);
      const subject = { operation: "decrypt", target: LOCAL, file, to };
      await audited(stateDir, (e) => secretsEntry(subject, e), async () => {
        const plaintext = await decryptFileToBytes(await readKey(stateDir), file);
        if (o.stdout) {
          console.error("warning: printing decrypted secrets; keep them out of logs and history");
          await Deno.stdout.write(plaintext);
          return {};
        }
        if (!o.force && await Deno.lstat(to).then(() => true, () => false)) {
          throw new SecretsRefusedError(`${to} exists; use --force to overwrite it`);
        }
        await writeFileAtomic(to, plaintext, 0o600);
        return {};
      });
      if (!o.stdout) print(`decrypted ${file} -> ${to} (mode 0600)`);
    });

  program.command("secrets:key")
    .description(
      "Print the encryption key for a password-manager backup (a warning goes to stderr), or " +
        "with --scp copy it to a node over SSH (0600 in a 0700 directory there)",
    )
    .option(
      "--scp <destination>",
      "a node of protocol.yaml, or [user@]host[:port]; the key goes to the node's state_dir " +
        "(default ~/.protocol)",
    )
    .option("--to-dir <dir>", "the state directory on the node (default: its state_dir)")
    .option("--config <file>", "project configuration (default: ./protocol.yaml, if any)")
    .option("--accept-new-host-keys", "record an unknown host key instead of refusing it")
    .option("--state-dir <dir>", STATE_DIR_HELP)
    .action(async (o: StateOptions & ScpOptions) => {
      const stateDir = resolveStateDir(o);
      if (o.scp !== undefined) {
        const subject = { operation: "key-scp", target: o.scp };
        const r = await audited(stateDir, (e) => secretsEntry(subject, e), async () => {
          return { result: await copyKeyTo(o.scp!, stateDir, o) };
        });
        print(r.result);
        return;
      }
      let hex = ""; // never returned to audited(): what it returns is recorded
      const subject = { operation: "key-export", target: LOCAL };
      await audited(stateDir, (e) => secretsEntry(subject, e), async () => {
        hex = await readKeyHex(stateDir);
        return {};
      });
      console.error(
        "warning: this is the encryption key of every environment's secrets. Store it in a " +
          "password manager, then clear your terminal; never paste it into chat or tickets.",
      );
      print(hex);
    });

  program.command("key:generate")
    .description(
      "Create an ed25519 deploy key for git (<state-dir>/deploy_key, no passphrase) and print " +
        "its public key to add as a read-only deploy key; refuses to overwrite",
    )
    .option("--comment <text>", "key comment (default: protocol deploy key USER@HOST)")
    .option("--state-dir <dir>", STATE_DIR_HELP)
    .action(async (o: StateOptions & { comment?: string }) => {
      const stateDir = resolveStateDir(o);
      const comment = o.comment ?? `protocol deploy key ${operator()}@${hostName()}`;
      let publicKey = "";
      const r = await audited(
        stateDir,
        (e) => secretsEntry({ operation: "deploy-key", target: LOCAL }, e),
        async () => {
          const key = await generateDeployKey(stateDir, comment);
          publicKey = key.publicKey;
          return { file: key.path, fingerprint: key.fingerprint };
        },
      );
      print(publicKey);
      console.error(
        `deploy key created at ${r.file} (${r.fingerprint}). Add the public key above to the ` +
          "repository as a read-only deploy key (GitHub: Settings > Deploy keys).",
      );
    });

  const cron = (name: string, description: string, add: boolean) =>
    program.command(name)
      .description(description)
      .option("--config <file>", "project configuration (default: ./protocol.yaml)")
      .option("--user <name>", "edit this user's crontab (needs root)")
      .option("--state-dir <dir>", STATE_DIR_HELP)
      .action(async (o: StateOptions & { config?: string; user?: string }) => {
        const config = await requireConfig(o);
        const stateDir = resolveStateDir(o);
        const entry = rebootEntry(config.app);
        const subject = {
          operation: add ? "add" as const : "remove" as const,
          repo: config.app.dir,
        };
        const r = await audited(stateDir, (e) => cronEntry(subject, e), async () => {
          const change = add
            ? await cronAdd(config.app, [entry], { user: o.user })
            : await cronRemove(config.app, [entry], { user: o.user });
          return { changed: change.changed };
        });
        const who = o.user ? `${o.user}'s` : "the";
        if (add) {
          print(
            r.changed ? `added to ${who} crontab: ${entry}` : `already in ${who} crontab: ${entry}`,
          );
        } else {
          print(r.changed ? `removed the entry from ${who} crontab` : `no entry in ${who} crontab`);
        }
      });
  cron(
    "cron:add",
    "Install the @reboot entry that starts the app after a reboot (idempotent, between " +
      "`# BEGIN/END protocol <app> <app.dir>` markers; other lines are kept)",
    true,
  );
  cron("cron:remove", "Remove the app's @reboot entry from the crontab (idempotent)", false);

  registerConfigCommands(program);
}

interface ScpOptions {
  scp?: string;
  toDir?: string;
  config?: string;
  acceptNewHostKeys?: boolean;
}

/** Copies the key to a configured node or to `[user@]host[:port]`; says what it did. */
async function copyKeyTo(destination: string, stateDir: string, o: ScpOptions) {
  const path = await findConfig(o);
  const config = path ? await loadConfig(path) : undefined;
  const nodes = config?.nodes ?? {};
  const known = nodes[destination];
  const adHoc = known ? undefined : parseDestination(destination);
  const pool = new TargetPool(
    {
      nodes: adHoc ? { ...nodes, [destination]: adHoc } : nodes,
      ssh: config?.ssh ?? SshSchema.parse({}),
      app: { targets: undefined } as Config["app"],
    },
    { acceptNewHostKeys: o.acceptNewHostKeys },
  );
  try {
    const node = pool.inventory.node(destination);
    const target = await pool.connect(node);
    const dir = await stateDirOn(target, o.toDir ?? node.ssh?.state_dir, stateDir);
    return await installKey(target, await readKeyHex(stateDir), dir, { replace: true });
  } finally {
    await pool.close();
  }
}

function parseDestination(destination: string): NodeConfig {
  const match = /^(?:([^@\s]+)@)?([^@:\s]+)(?::(\d+))?$/.exec(destination);
  if (!match) {
    throw new UsageError(
      `--scp ${destination}: expected a node of protocol.yaml or [user@]host[:port]`,
    );
  }
  const [, user, host, port] = match;
  return { host, user, port: port ? Number(port) : undefined, groups: [], vars: {} };
}

function print(s: string): void {
  console.log(s);
}
