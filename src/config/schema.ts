/**
 * The schema of `protocol.yaml`: the app being operated, its nodes, the blue-green and config
 * repository blocks, and variables for runbooks; and the settings derived from it.
 *
 * @example
 * ```ts
 * import { ConfigSchema } from "./schema.ts";
 * ConfigSchema.safeParse({}).success; // false: app is required
 * ```
 * @module
 */
import { join } from "node:path";
import { z } from "../source/zod.ts";
import { NotifySchema } from "./notify.ts";
import { AuditConfigSchema } from "../audit/witness/config.ts";

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

/** Names that select something else and so cannot name a node or group. */
export const RESERVED_TARGETS = ["local", "all", "app"] as const;

const NodeName = z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, {
  error: "expected a node name such as `web-1` (lower case, digits, . _ -)",
}).refine((name) => !(RESERVED_TARGETS as readonly string[]).includes(name), {
  error: `\`local\`, \`all\` and \`app\` are reserved target names`,
});

/** How the OpenSSH client reaches the nodes (each node may override user, port, identity). */
export const SshSchema = z.strictObject({
  user: z.string().optional().describe("Remote user (default: the SSH client's default)."),
  port: z.number().int().min(1).max(65535).default(22),
  identity: z.string().optional().describe("Private key file (`ssh -i`)."),
  known_hosts: z.string().optional().describe("known_hosts file (default: ~/.ssh/known_hosts)."),
  host_keys: z.enum(["strict", "accept-new"]).default("strict").describe(
    "`strict` refuses unknown host keys; `accept-new` records a new node's key on first contact.",
  ),
  connect_timeout: z.number().int().positive().default(10).describe("Seconds to connect."),
  persist: z.number().int().positive().optional().describe(
    "Ignored: each node's connection is the run's own and ends with it. Still accepted so " +
      "configurations that set it keep validating.",
  ),
});

// ---- App lifecycle drivers (issue 7): how the app is built, started, stopped, read, checked.

/** Lifecycle commands a node may set differently from `app`. */
const NodeDriverFields = {
  build: z.string().min(1).optional().describe(
    "Shell command run in a new release directory before the switch (install, compile).",
  ),
  rebuild: z.string().min(1).optional().describe(
    "Shell command that rebuilds and restarts the app in place (docker:compose:rebuild). " +
      "Default with `driver: process`: stop, build, start.",
  ),
  running: z.string().min(1).optional().describe(
    "Shell command, run in the active release, that exits 0 while the app runs (status).",
  ),
};

const ServiceName = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, {
  error: "expected a compose service name such as `web`",
});

/** The `app:` keys of the lifecycle drivers. */
const AppDriverFields = {
  driver: z.enum(["process", "compose"]).default("process").describe(
    "`process`: start/stop/logs are the shell commands written here. `compose`: they are " +
      "`docker compose` command lines made from `compose` (anything written here wins).",
  ),
  ...NodeDriverFields,
  compose: z.strictObject({
    file: z.string().min(1).default("docker-compose.yml").describe(
      "Compose file, relative to the release directory.",
    ),
    project: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, {
      error: "expected a compose project name: lower case, digits, - and _",
    }).optional().describe("Compose project name (default: app.name, lower-cased)."),
    services: z.array(ServiceName).default([]).describe("Services to act on (default: all)."),
  }).optional().describe("The compose driver's settings (`driver: compose`)."),
};

/** Start and stop are needed unless the compose driver makes them; `compose` needs it. */
function driverProblems(
  app: { driver: string; start?: string; stop?: string; compose?: unknown },
  ctx: z.core.$RefinementCtx,
): void {
  if (app.driver === "process") {
    for (const key of ["start", "stop"] as const) {
      if (app[key] === undefined) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `app.${key} is required with driver: process (or set driver: compose)`,
        });
      }
    }
    if (app.compose !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["compose"],
        message: "app.compose is read only with driver: compose",
      });
    }
  }
}

// ---- end of the app lifecycle drivers block.

/** One node reached over SSH. */
export const NodeSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).optional(),
  user: z.string().optional(),
  identity: z.string().optional(),
  groups: z.array(NodeName).default([]).describe("Groups this node belongs to: `on: web`."),
  staging: z.boolean().optional().describe(
    "A staging node: `drill NAME --target NODE` may plant faults here (never on any other).",
  ),
  vars: z.record(z.string(), Scalar).default({}).describe("Variables that override `vars`."),
  state_dir: z.string().regex(/^(\/|~\/)/, {
    error: "a node's state_dir must be absolute or start with ~/",
  }).optional().describe(
    "The node's state directory (encryption key): default ~/.protocol of the SSH user.",
  ),
  app: z.strictObject({
    dir: z.string().startsWith("/", { error: "a node's app.dir must be an absolute path" })
      .optional(),
    start: z.string().optional(),
    stop: z.string().optional(),
    health: z.string().url().optional(),
    logs: z.string().optional(),
    ...NodeDriverFields,
  }).optional().describe("Where this node differs from `app` (its directory, health URL, ...)."),
});

/**
 * Blue-green (shadow) deploys, SOP 4: a front proxy the tool runs on each node listens on the
 * live port and hands each new connection to the slot that `<app.dir>/shadow/live.port` names;
 * releases run in two slots (blue, green) on ports of `ports`. See `src/shadow/mod.ts`.
 */
export const ShadowSchema = z.strictObject({
  start: z.string().min(1, { error: "shadow.start must be a shell command" }).describe(
    "Shell command that runs the app in the foreground, run in the release directory with " +
      "$PORT set to the slot's port (the tool detaches it and keeps its pid and log).",
  ),
  ports: z.string().regex(/^\d{1,5}-\d{1,5}$/, {
    error: "shadow.ports must be a port range such as `9100-9199`",
  }).refine((range) => {
    const [from, to] = range.split("-").map(Number);
    return from >= 1 && to <= 65535 && from <= to;
  }, { error: "shadow.ports must go from a lower to a higher port, within 1-65535" })
    .default("9100-9199").describe("Ports the slots run on; a build takes the first free one."),
  live_port: z.number().int().min(1).max(65535).optional().describe(
    "Port the proxy listens on, where clients reach the app. Default: the port of app.health.",
  ),
  listen: z.ipv4({
    error: "shadow.listen must be an IPv4 address such as `0.0.0.0` or `127.0.0.1`",
  }).optional().describe(
    "Address the proxy binds. Default: app.health's host when it is an IP address, else 0.0.0.0.",
  ),
  health: z.string().startsWith("/", { error: "shadow.health must be a path such as `/health`" })
    .optional().describe("Path checked on a slot's port. Default: the path of app.health."),
  health_timeout: z.number().int().positive().default(30).describe(
    "Seconds a new slot has to answer its health check with 200 before the build fails.",
  ),
});

/**
 * Whether runbooks that declare `approval:` are held to it. `required` (the default): such a run
 * needs an approved change request, and without an approvers file it is refused. `off`: the team
 * says in writing that it does not approve changes (a demo, a one-person team); the reason is
 * recorded in every entry of those runs and the auditor's population lists them as exceptions.
 */
export const ApprovalConfigSchema = z.strictObject({
  mode: z.enum(["required", "off"]).default("required").describe(
    "`required`: runbooks that declare approval run only under an approved request. " +
      "`off`: they run without one, recorded as `approval=off` with the reason.",
  ),
  reason: z.string().trim().min(1).optional().describe(
    "Why this project does not approve changes (required with `mode: off`; shown to auditors).",
  ),
}).superRefine((approval, ctx) => {
  if (approval.mode === "off" && !approval.reason) {
    ctx.addIssue({
      code: "custom",
      path: ["mode"],
      message: 'off needs a reason, as in `reason: "single-person team"`; ' +
        "it is recorded in every run it lets through",
    });
  }
});

/** The schema of `protocol.yaml`. */
export const ConfigSchema = z.strictObject({
  app: z.strictObject({
    name: z.string().min(1),
    repo: z.string().min(1).describe("Git repository (URL or path) whose tags are the releases."),
    dir: z.string().min(1).describe("Holds releases/<version>, the `current` link and history."),
    start: z.string().min(1).optional().describe(
      "Shell command that starts the app, run in the release (made by `driver: compose`).",
    ),
    stop: z.string().min(1).optional().describe(
      "Shell command that stops the app, run in the release (made by `driver: compose`).",
    ),
    health: z.string().url().describe("URL that answers 200 when the app is healthy."),
    logs: z.string().optional().describe("Shell command that prints recent app logs."),
    targets: z.string().optional().describe(
      "Where the app runs (`on: app` in runbooks): nodes or groups, comma-separated. " +
        "Default: every node, or `local` when there are none.",
    ),
    ...AppDriverFields,
  }).superRefine(driverProblems),
  deployment: z.strictObject({
    strategy: z.enum(["release", "branch"]).default("release"),
    secrets: z.enum(["encrypted", "plaintext"]).default("encrypted"),
  }).default({ strategy: "release", secrets: "encrypted" }),
  vars: z.record(z.string(), Scalar).default({}),
  ssh: SshSchema.default(SshSchema.parse({})),
  nodes: z.record(NodeName, NodeSchema).default({}).describe(
    "The nodes runbooks run on over SSH, by name. `local` (this machine) always exists.",
  ),
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
  shadow: ShadowSchema.optional().describe(
    "Blue-green (shadow) deploys: shadow:init, shadow:build, shadow:start, shadow:rollback.",
  ),
  notify: NotifySchema.optional().describe("Webhooks told about requests, approvals and runs."),
  audit: AuditConfigSchema.optional().describe("Audit checkpoints and their witnesses."),
  approval: ApprovalConfigSchema.optional().describe(
    "Whether runbooks that declare approval are held to it (default: required).",
  ),
});

/** A loaded configuration, with relative paths made absolute against the file's directory. */
export type Config = Omit<z.infer<typeof ConfigSchema>, "app"> & {
  /** The app, with the driver's commands filled in (its `compose` block is folded into them). */
  app: Omit<z.infer<typeof ConfigSchema>["app"], "compose"> & { start: string; stop: string };
  file: string;
};
/** One node of the configuration. */
export type NodeConfig = z.infer<typeof NodeSchema>;
/** The `shadow:` settings of the configuration. */
export type ShadowConfig = z.infer<typeof ShadowSchema>;
/** The SSH settings of the configuration. */
export type SshConfig = z.infer<typeof SshSchema>;

/** The `config_repo:` block with every default applied. */
export type ConfigRepoSettings = Required<NonNullable<Config["config_repo"]>>;

/**
 * The config repository settings, or undefined when the configuration has none; `env_dir`
 * defaults to `<app.dir>/shared`.
 *
 * @example
 * ```ts
 * import { configRepoSettings, loadConfig } from "./mod.ts";
 * const repo = configRepoSettings(await loadConfig("protocol.yaml"));
 * console.log(repo?.env_dir);
 * ```
 */
export function configRepoSettings(config: Config): ConfigRepoSettings | undefined {
  const repo = config.config_repo;
  return repo && { ...repo, env_dir: repo.env_dir ?? join(config.app.dir, "shared") };
}
