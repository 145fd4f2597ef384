/**
 * The config repository commands: `config:switch ENV`, `config:init`, `config:save`,
 * `config:refresh`. They need a `config_repo` block in protocol.yaml and write one signed
 * audit entry each (`action: config`, the environment, the files as one comma-separated string).
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { registerConfigCommands } from "./config_repo.ts";
 * const program = new Command();
 * registerConfigCommands(program);
 * await program.parseAsync(["config:switch", "staging"], { from: "user" });
 * ```
 * @module
 */
import type { Command } from "commander";
import { type Config, ConfigError, configRepoSettings, requireConfig } from "../config/mod.ts";
import {
  configInit,
  type ConfigOutcome,
  configRefresh,
  type ConfigRepo,
  configSave,
  configSwitch,
  readKey,
} from "../secrets/mod.ts";
import { resolveStateDir } from "../state/mod.ts";
import { configEntry } from "../audit/actions.ts";
import { audited, STATE_DIR_HELP } from "./secrets_audit.ts";

interface ConfigOptions {
  config?: string;
  stateDir?: string;
}

function configRepoOf(config: Config): ConfigRepo {
  const repo = configRepoSettings(config);
  if (!repo) {
    throw new ConfigError(
      `${config.file} has no config_repo block; add one:\n` +
        "config_repo:\n  path: /opt/myapp-config   # the git checkout of the config repository\n" +
        "  environments: [production, staging, dev]",
    );
  }
  return repo;
}

/** Loads the configuration, runs one audited config operation and prints its summary. */
async function configCommand(
  o: ConfigOptions,
  operation: string,
  env: string | undefined,
  work: (repo: ConfigRepo, stateDir: string) => Promise<ConfigOutcome>,
): Promise<void> {
  const config = await requireConfig(o);
  const repo = configRepoOf(config);
  const stateDir = resolveStateDir(o);
  const subject = { operation, repo: config.app.dir, env, target: "local" };
  let summary = "";
  await audited(stateDir, (ending) => configEntry(subject, ending), async () => {
    const outcome = await work(repo, stateDir);
    summary = outcome.summary;
    // Flat for Wazuh: one comma-separated string, left out when no file was touched.
    return outcome.files.length
      ? { env: outcome.env, files: outcome.files.join(",") }
      : { env: outcome.env };
  });
  console.log(summary);
}

/**
 * Adds the config repository commands to a commander program.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * registerConfigCommands(new Command("protocol"));
 * ```
 */
export function registerConfigCommands(program: Command): void {
  const common = (command: Command) =>
    command
      .option("--config <file>", "project configuration (default: ./protocol.yaml)")
      .option("--state-dir <dir>", STATE_DIR_HELP);

  common(
    program.command("config:switch")
      .description(
        "Check out the environment's branch of the config repository (refuses while plaintext " +
          "or unsaved changes are in the checkout)",
      )
      .argument("<env>", "environment (a branch): production, staging, dev, ...")
      .option("--create", "start the environment as a new empty branch when it exists nowhere"),
  ).action(async (env: string, o: ConfigOptions & { create?: boolean }) => {
    await configCommand(o, "switch", env, (repo) => configSwitch(repo, env, o));
  });

  common(
    program.command("config:init")
      .description(
        "Encrypt every plaintext .env* file of the checkout to .enc, verify, delete the " +
          "plaintext and make .gitignore cover it; --decrypt does the reverse for editing",
      )
      .option("--encrypt", "encrypt plaintext env files (the default)")
      .option("--decrypt", "decrypt every .enc file next to itself (mode 0600, gitignored)"),
  ).action(async (o: ConfigOptions & { decrypt?: boolean }) => {
    await configCommand(o, o.decrypt ? "decrypt" : "encrypt", undefined, async (repo, dir) => {
      return await configInit(repo, await readKey(dir), { decrypt: o.decrypt });
    });
  });

  common(
    program.command("config:save")
      .description(
        "Commit the encrypted files and .gitignore of the current environment and push them; " +
          "refuses if plaintext is staged, tracked or not yet encrypted",
      )
      .option("-m, --message <text>", "commit message"),
  ).action(async (o: ConfigOptions & { message?: string }) => {
    await configCommand(o, "save", undefined, (repo) => configSave(repo, o));
  });

  common(
    program.command("config:refresh")
      .description(
        "Pull the current environment branch and decrypt its files for the app into " +
          "config_repo.env_dir (mode 0600), never into the repository",
      )
      .argument("[env]", "fail unless the checkout is on this environment")
      .option("--no-pull", "decrypt what is checked out without pulling"),
  ).action(async (env: string | undefined, o: ConfigOptions & { pull: boolean }) => {
    await configCommand(o, "refresh", env, async (repo, dir) => {
      return await configRefresh(repo, await readKey(dir), { env, pull: o.pull });
    });
  });
}
