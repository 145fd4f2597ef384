/**
 * Finding and loading `protocol.yaml`: every problem with its `file:line:col`, relative paths
 * resolved against the file, the app's lifecycle commands resolved from its driver.
 *
 * @example
 * ```ts
 * import { findConfig, loadConfig } from "./load.ts";
 * const path = await findConfig({});
 * if (path) console.log((await loadConfig(path)).app.dir);
 * ```
 * @module
 */
import { InputError } from "../errors.ts";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { formatProblem, parseSource, type Problem, schemaProblems } from "../source/mod.ts";
import { resolveLifecycle } from "./driver.ts";
import { type Config, ConfigSchema } from "./schema.ts";

/** The file name looked for when no `--config` is given. */
export const CONFIG_FILE = "protocol.yaml";

/** The configuration is missing or wrong; the message says how to fix it. */
export class ConfigError extends InputError {
  constructor(message: string, readonly problems: Problem[] = []) {
    super(message);
    this.name = "ConfigError";
  }
}

/**
 * Where the configuration is: `--config`, `$PROTOCOL_CONFIG`, then `protocol.yaml` in the
 * directory the user ran the command from (`$INIT_CWD`, which `deno task` sets) or the current
 * directory. Returns undefined when there is none.
 */
export async function findConfig(options: { config?: string }): Promise<string | undefined> {
  const explicit = options.config ?? Deno.env.get("PROTOCOL_CONFIG");
  if (explicit) return resolve(Deno.env.get("INIT_CWD") ?? Deno.cwd(), explicit);
  for (const dir of new Set([Deno.env.get("INIT_CWD"), Deno.cwd()])) {
    if (!dir) continue;
    const path = join(dir, CONFIG_FILE);
    if (await Deno.stat(path).then(() => true, () => false)) return path;
  }
  return undefined;
}

/** Finds and loads the configuration, or fails saying how to create one. */
export async function requireConfig(options: { config?: string }): Promise<Config> {
  const path = await findConfig(options);
  if (!path) {
    throw new ConfigError(
      `no project configuration: ${CONFIG_FILE} was not found in ${
        Deno.env.get("INIT_CWD") ?? Deno.cwd()
      }.\n` +
        `Create one with \`deno task init\` (it writes a commented ${CONFIG_FILE} to edit), ` +
        `or point to one with --config FILE or PROTOCOL_CONFIG=FILE.`,
    );
  }
  return await loadConfig(path);
}

/** Loads and checks a configuration file; throws {@link ConfigError} naming file:line:column. */
export async function loadConfig(path: string): Promise<Config> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new ConfigError(`cannot read the configuration ${path}`);
  }
  const source = parseSource(path, text);
  const parsed = source.problems.length ? undefined : ConfigSchema.safeParse(source.data);
  const problems = parsed
    ? parsed.success ? [] : schemaProblems(source, parsed.error.issues)
    : source.problems;
  if (!parsed?.success || problems.length) {
    throw new ConfigError(
      `the configuration ${path} is not valid:\n${problems.map(formatProblem).join("\n")}`,
      problems,
    );
  }
  const config = parsed.data;
  const base = dirname(path);
  const absolute = (p: string) => isAbsolute(p) || /^[\w.-]+@|:\/\//.test(p) ? p : join(base, p);
  const file = (p: string | undefined) => p === undefined ? undefined : absolute(expandHome(p));
  const repo = config.config_repo;
  return {
    ...config,
    app: resolveLifecycle({
      ...config.app,
      dir: absolute(config.app.dir),
      repo: absolute(config.app.repo),
    }),
    ssh: {
      ...config.ssh,
      identity: file(config.ssh.identity),
      known_hosts: file(config.ssh.known_hosts),
    },
    nodes: Object.fromEntries(
      Object.entries(config.nodes).map(([name, node]) => [
        name,
        { ...node, identity: file(node.identity) },
      ]),
    ),
    config_repo: repo && {
      ...repo,
      path: absolute(repo.path),
      env_dir: absolute(repo.env_dir ?? join(absolute(config.app.dir), "shared")),
    },
    file: path,
  };
}

function expandHome(path: string): string {
  const home = Deno.env.get("HOME");
  return home && (path === "~" || path.startsWith("~/")) ? home + path.slice(1) : path;
}
