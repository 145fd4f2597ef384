/**
 * The demo's throwaway world: a git repository of a small HTTP app with release tags
 * `v1.1.0`, `v1.2.0` and a broken `v1.3.0`, an app directory, a state directory and a
 * `protocol.yaml` that starts the app as a plain process on a free loopback port.
 * Tests use the same world, so the demo is what the tests prove.
 *
 * @example
 * ```ts
 * import { createDemoWorld } from "./app.ts";
 * const world = await createDemoWorld(await Deno.makeTempDir());
 * console.log(world.config, world.healthUrl);
 * ```
 * @module
 */
import { mustRun } from "../proc/mod.ts";
import { join } from "node:path";

/** Paths and URLs of a demo world. */
export interface DemoWorld {
  dir: string;
  repo: string;
  appDir: string;
  stateDir: string;
  config: string;
  port: number;
  healthUrl: string;
  pidFile: string;
}

/** The app's source at a release; `broken` makes its health check fail as a real bug would. */
export function appSource(version: string, broken: boolean): string {
  return `// Demo app ${version}: answers / and /health on $PORT.
const version = ${JSON.stringify(version)};
const port = Number(Deno.env.get("PORT") ?? 8080);
${
    broken
      ? `// ${version} reads a setting that the release forgot to ship: the health check fails.
const settings: Record<string, string> = {};
const healthy = () => settings["DATABASE_URL"] !== undefined;`
      : `// A fault injected on one node for one release (DEMO_FAULT=<version>) fails it there.
const healthy = () => Deno.env.get("DEMO_FAULT") !== version;`
  }
Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (request) => {
  const path = new URL(request.url).pathname;
  if (path === "/health") {
    return healthy()
      ? Response.json({ status: "ok", version })
      : Response.json({ status: "error", version, error: "DATABASE_URL is not set" }, { status: 503 });
  }
  return new Response(\`hello from \${version}\\n\`);
});
`;
}

/** A free TCP port on loopback. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Creates the app repository with its three release tags, and the configuration. */
export async function createDemoWorld(dir: string): Promise<DemoWorld> {
  const work = join(dir, "app-src");
  const repo = join(dir, "app.git");
  const appDir = join(dir, "app");
  const stateDir = join(dir, "state");
  const port = freePort();
  const pidFile = join(appDir, "app.pid");
  await Deno.mkdir(work, { recursive: true });
  const git = (...args: string[]) =>
    mustRun(["git", ...args], {
      cwd: work,
      env: {
        GIT_AUTHOR_NAME: "Demo",
        GIT_AUTHOR_EMAIL: "demo@example.com",
        GIT_COMMITTER_NAME: "Demo",
        GIT_COMMITTER_EMAIL: "demo@example.com",
      },
    });
  await git("init", "--quiet", "--initial-branch=main");
  for (
    const [version, broken] of [["v1.1.0", false], ["v1.2.0", false], ["v1.3.0", true]] as const
  ) {
    await Deno.writeTextFile(join(work, "server.ts"), appSource(version, broken));
    await Deno.writeTextFile(join(work, "VERSION"), `${version}\n`);
    await git("add", "-A");
    await git("commit", "--quiet", "-m", `Release ${version}`);
    await git("tag", "-a", version, "-m", `Release ${version}`);
  }
  await mustRun(["git", "clone", "--quiet", "--bare", work, repo]);
  await Deno.mkdir(appDir, { recursive: true });
  const deno = Deno.execPath();
  const config = join(dir, "protocol.yaml");
  await Deno.writeTextFile(config, demoConfig({ repo, appDir, port, pidFile, deno, dir }));
  return {
    dir,
    repo,
    appDir,
    stateDir,
    config,
    port,
    healthUrl: `http://127.0.0.1:${port}/health`,
    pidFile,
  };
}

/** How the demo app is started, stopped, read and checked, as a plain process. */
export interface AppCommands {
  start: string;
  stop: string;
  logs: string;
  health: string;
  /** Exits 0 while the app's process runs (`status`). */
  running: string;
}

/**
 * The demo app's lifecycle commands for an app directory and port. `fault` names a release
 * whose health check fails here (a node-specific fault for rollout tests and drills).
 */
export function appCommands(
  o: { appDir: string; port: number; deno?: string; fault?: string },
): AppCommands {
  const deno = o.deno ?? Deno.execPath();
  const log = join(o.appDir, "app.log");
  const pidFile = join(o.appDir, "app.pid");
  const fault = o.fault ? `DEMO_FAULT=${o.fault} ` : "";
  const start = `${fault}PORT=${o.port} nohup '${deno}' run --quiet --no-config --allow-net ` +
    `--allow-env server.ts </dev/null >>'${log}' 2>&1 & echo $! > '${pidFile}'`;
  // A stopped process whose parent is init can stay a zombie for a while; it is stopped.
  const running =
    `kill -0 "$pid" 2>/dev/null && [ "$(sed 's/.*) //' /proc/$pid/stat | cut -c1)" != Z ]`;
  const stop = `if [ -f '${pidFile}' ]; then pid=$(cat '${pidFile}'); kill "$pid" 2>/dev/null; ` +
    `while ${running}; do sleep 0.05; done; rm -f '${pidFile}'; fi`;
  return {
    start,
    stop,
    logs: `tail -n 20 '${log}'`,
    health: `http://127.0.0.1:${o.port}/health`,
    running: `pid=$(cat '${pidFile}' 2>/dev/null) && ${running}`,
  };
}

function demoConfig(
  o: { repo: string; appDir: string; port: number; pidFile: string; deno: string; dir: string },
): string {
  const q = (s: string) => JSON.stringify(s);
  const app = appCommands(o);
  return `# Demo configuration written by \`deno task demo\`.
app:
  name: demo-app
  repo: ${q(o.repo)}
  dir: ${q(o.appDir)}
  start: ${q(app.start)}
  stop: ${q(app.stop)}
  logs: ${q(app.logs)}
  running: ${q(app.running)}
  health: ${q(app.health)}
deployment:
  strategy: release
  secrets: encrypted
# One person deploys a throwaway app here: approvals are switched off in writing, and every run
# records why (a real team lists its people in approvers.yaml instead; README "Approvals").
approval:
  mode: "off"
  reason: "demo: a throwaway app on this machine, one person"
`;
}

/** Stops the demo app if it runs. */
export async function stopDemoApp(world: DemoWorld): Promise<void> {
  const pid = await Deno.readTextFile(world.pidFile).then((t) => Number(t.trim()), () => 0);
  if (!pid) return;
  try {
    Deno.kill(pid, "SIGTERM");
  } catch {
    // already gone
  }
  for (let i = 0; i < 50; i++) {
    try {
      Deno.kill(pid, "SIGCONT");
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
