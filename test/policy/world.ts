/**
 * A policy test world in a temp directory: a state dir (key 0600, dir 0700, a verifying audit
 * log), a configuration, an app whose `current` release is a git checkout pushed to a bare
 * remote (and mirrored to `repo.git`), clean PHP and compose files, and `crontab`/`composer`
 * stand-ins in `bin/` that print fixture files. Every check passes on it; the `plant*`
 * functions each plant one problem.
 *
 * @example
 * ```ts
 * const world = await policyWorld();
 * await plantWebshell(world);
 * await world.cleanup();
 * ```
 * @module
 */
import $ from "dax";
import { join } from "node:path";
import { appendAudit, generateSigningKey } from "../../src/audit/mod.ts";
import { ensureStateDir } from "../../src/state/mod.ts";

/** A policy test world. */
export interface PolicyWorld {
  dir: string;
  stateDir: string;
  config: string;
  app: string;
  source: string;
  bin: string;
  /** CLI arguments pointing at this world. */
  args: string[];
  /** Environment for a spawned CLI: PATH with the stand-ins first. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

const CLEAN_PHP = `<?php
// Word boundaries: none of these is a call of a dangerous function.
function doeval($x) { return $x; }
$pdo->exec("SELECT 1");
Foo::system("x");
echo medieval("text");
`;

const CLEAN_COMPOSE = `services:
  web:
    image: nginx:1.27
    user: "1000:1000"
    cap_drop: [ALL]
    ports: ["8080:80"]
`;

async function git(cwd: string, ...args: string[]) {
  await $`git ${args}`.cwd(cwd).env({
    GIT_AUTHOR_NAME: "t",
    GIT_AUTHOR_EMAIL: "t@example.com",
    GIT_COMMITTER_NAME: "t",
    GIT_COMMITTER_EMAIL: "t@example.com",
  }).quiet();
}

/** Creates a clean {@link PolicyWorld}. */
export async function policyWorld(options: { config?: string } = {}): Promise<PolicyWorld> {
  const dir = await Deno.makeTempDir({ prefix: "policy-test-" });
  const stateDir = await ensureStateDir(join(dir, "state"));
  await Deno.writeTextFile(join(stateDir, "key"), "ab".repeat(32), { mode: 0o600 });
  await generateSigningKey(stateDir);
  await appendAudit(stateDir, { action: "deploy", to: "v1.0.0", status: "success" });
  const app = join(dir, "app");
  const source = join(app, "current");
  const remote = join(dir, "remote.git");
  await Deno.mkdir(source, { recursive: true });
  await Deno.writeTextFile(join(source, "index.php"), CLEAN_PHP);
  await Deno.writeTextFile(join(source, "docker-compose.yml"), CLEAN_COMPOSE);
  await Deno.writeTextFile(join(source, "composer.json"), '{"require": {}}\n');
  await Deno.mkdir(join(source, "vendor", "lib"), { recursive: true });
  // Excluded: vendor code is the dependency check's business, not the pattern scan's.
  await Deno.writeTextFile(join(source, "vendor", "lib", "x.php"), "<?php eval($code);\n");
  await Deno.writeTextFile(join(source, ".gitignore"), "vendor/\n");
  await git(dir, "init", "-q", "--bare", "-b", "main", remote);
  await git(source, "init", "-q", "-b", "main");
  await git(source, "add", "-A");
  await git(source, "commit", "-q", "-m", "v1");
  await git(source, "remote", "add", "origin", remote);
  await git(source, "push", "-q", "origin", "main");
  await git(dir, "clone", "-q", "--mirror", remote, join(app, "repo.git"));
  const bin = join(dir, "bin");
  await Deno.mkdir(bin);
  await Deno.writeTextFile(join(bin, "crontab"), `#!/bin/sh\ncat ${join(dir, "crontab.txt")}\n`, {
    mode: 0o755,
  });
  await Deno.writeTextFile(
    join(bin, "composer"),
    `#!/bin/sh\ncat ${join(dir, "composer-audit.json")}\n`,
    { mode: 0o755 },
  );
  // What `deno task cron:add` writes: this install's block (app and dir), cd into its current.
  await Deno.writeTextFile(
    join(dir, "crontab.txt"),
    `# m h dom mon dow\n# BEGIN protocol test-app ${app}\n@reboot cd ${app}/current && true\n` +
      `# END protocol test-app ${app}\n`,
  );
  await Deno.writeTextFile(
    join(dir, "composer-audit.json"),
    '{"advisories": [], "abandoned": []}\n',
  );
  const config = join(dir, "protocol.yaml");
  await Deno.writeTextFile(
    config,
    options.config ?? [
      "app:",
      "  name: test-app",
      `  repo: ${JSON.stringify(remote)}`,
      `  dir: ${JSON.stringify(app)}`,
      '  start: "true"',
      '  stop: "true"',
      "  health: http://127.0.0.1:9/health",
      "deployment:",
      "  strategy: release",
      "  secrets: encrypted",
      "",
    ].join("\n"),
  );
  return {
    dir,
    stateDir,
    config,
    app,
    source,
    bin,
    args: ["--config", config, "--state-dir", stateDir],
    env: { PATH: `${bin}:${Deno.env.get("PATH")}` },
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

/**
 * The PHP functions the shipped malicious-code check lists by name, each its own pattern id
 * (`preg_replace` with the `/e` modifier is the pattern `preg_replace_e`; tests add it as they
 * need it).
 */
export const LISTED_FUNCTIONS = [
  "eval",
  "assert",
  "base64_decode",
  "gzinflate",
  "str_rot13",
  "shell_exec",
  "proc_open",
  "popen",
  "system",
  "exec",
  "passthru",
  "create_function",
] as const;

/** The webshell sample: every malicious-code pattern, one per line. */
export const WEBSHELL = `<?php
eval($_POST['c']);
assert($_REQUEST['a']);
$x = base64_decode('ZWNobyAxOw==');
$y = gzinflate($x);
$z = str_rot13($y);
shell_exec($_GET['cmd']);
$p = proc_open($cmd, $spec, $pipes);
$h = popen('id', 'r');
system($_GET['s']);
exec('whoami');
passthru('uname -a');
$f = create_function('$a', 'return $a;');
preg_replace('/.*/e', $_POST['code'], '');
`;

/** Drops the webshell sample into the release (untracked, so recent-changes sees it too). */
export async function plantWebshell(world: PolicyWorld, name = "uploads/shell.php") {
  const path = join(world.source, name);
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeTextFile(path, WEBSHELL);
  return path;
}

/** A compose file with every risk the compose check knows. */
export const RISKY_COMPOSE = `services:
  web:
    image: nginx:1.27
  admin:
    image: php:8
    privileged: true
    user: root
    cap_add: [SYS_ADMIN, NET_ADMIN]
    network_mode: host
    pid: host
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
`;

/** Writes a file into the release and commits it, so git knows it. */
export async function commitFile(world: PolicyWorld, name: string, text: string) {
  await Deno.writeTextFile(join(world.source, name), text);
  await git(world.source, "add", "-A");
  await git(world.source, "commit", "-q", "-m", `change ${name}`);
}

/** Runs git in a world directory. */
export { git };
