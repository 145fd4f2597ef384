/**
 * The project configuration (`protocol.yaml`): the app being operated — where its releases come
 * from, where they live, how to start, stop and health-check it — and variables for runbooks.
 *
 * @example
 * ```ts
 * import { findConfig, loadConfig } from "./mod.ts";
 * const path = await findConfig({});
 * if (path) console.log((await loadConfig(path)).app.dir);
 * ```
 * @module
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import { formatProblem, parseSource, type Problem, schemaProblems } from "../runbook/source.ts";

/** The file name looked for when no `--config` is given. */
export const CONFIG_FILE = "protocol.yaml";

/** The schema of `protocol.yaml`. */
export const ConfigSchema = z.strictObject({
  app: z.strictObject({
    name: z.string().min(1),
    repo: z.string().min(1).describe("Git repository (URL or path) whose tags are the releases."),
    dir: z.string().min(1).describe("Holds releases/<version>, the `current` link and history."),
    start: z.string().min(1).describe("Shell command that starts the app, run in the release."),
    stop: z.string().min(1).describe("Shell command that stops the app, run in the release."),
    health: z.string().url().describe("URL that answers 200 when the app is healthy."),
    logs: z.string().optional().describe("Shell command that prints recent app logs."),
  }),
  deployment: z.strictObject({
    strategy: z.enum(["release", "branch"]).default("release"),
    secrets: z.enum(["encrypted", "plaintext"]).default("encrypted"),
  }).default({ strategy: "release", secrets: "encrypted" }),
  vars: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  config_repo: z.strictObject({
    path: z.string().min(1).describe(
      "Checkout (git working tree) of the config repository: one branch per environment.",
    ),
    remote: z.string().min(1).default("origin").describe(
      "Git remote that config:save pushes to and config:refresh pulls from.",
    ),
    environments: z.array(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/)).min(1)
      .default(["production", "staging", "dev"]).describe("Environment names = branch names."),
    env_dir: z.string().min(1).optional().describe(
      "Where config:refresh writes decrypted env files (mode 0600) for the app; never inside " +
        "the repository. Default: <app.dir>/shared.",
    ),
  }).optional().describe("The encrypted config repository (config:* commands)."),
});

/** A loaded configuration, with relative paths made absolute against the file's directory. */
export type Config = z.infer<typeof ConfigSchema> & { file: string };

/** The configuration is missing or wrong; the message says how to fix it. */
export class ConfigError extends Error {
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
  const repo = config.config_repo;
  return {
    ...config,
    app: { ...config.app, dir: absolute(config.app.dir), repo: absolute(config.app.repo) },
    config_repo: repo && {
      ...repo,
      path: absolute(repo.path),
      env_dir: absolute(repo.env_dir ?? join(absolute(config.app.dir), "shared")),
    },
    file: path,
  };
}

/** A commented starting configuration, written by `deno task init`. */
export function configTemplate(): string {
  return `# Project configuration for the runbooks (see README: "Configuration").
app:
  name: myapp
  # Git repository whose annotated tags are the releases (URL or path).
  repo: git@github.com:your-org/your-app.git
  # Holds releases/<version>, the \`current\` link and the release history.
  dir: /opt/myapp
  # Run in the active release directory. Start must detach (redirect output, run in background).
  start: docker compose up -d
  stop: docker compose down
  logs: docker compose logs --tail=200
  # Answers 200 when the app is healthy.
  health: http://127.0.0.1:8080/health
deployment:
  strategy: release   # immutable tags with an audit trail, never branches
  secrets: encrypted
vars: {}
# The encrypted config repository (config:switch/init/save/refresh), one branch per environment.
# config_repo:
#   path: /opt/myapp-config        # its git checkout
#   remote: origin
#   environments: [production, staging, dev]
#   env_dir: /opt/myapp/shared     # where config:refresh writes the decrypted .env files
`;
}
