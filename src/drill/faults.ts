/**
 * The faults a drill injects into its sandbox, each real: a webshell file, a process running
 * under a miner's name, `privileged: true` in the compose file, a key made world-readable, an
 * edited audit-log line, a release failing its health check, a malicious dependency. Each kind
 * says which checks should catch it and what in their findings points at *this* fault (its
 * marker: the file, the pid), how to remove it, and how to prove nothing is left. Faults act
 * through the site's target, so the same code plants them in the local sandbox and on a
 * staging node over SSH; the scripts are built by small pure functions (`fault_scripts.ts`).
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
import { join } from "node:path";
import {
  addPrivileged,
  MALICIOUS_PACKAGE,
  minerScript,
  plantScript,
  restoreScript,
  targetPath,
  WEBSHELL,
} from "./fault_scripts.ts";
import type { Target } from "../targets/target.ts";
import type { FaultSpec } from "./schema.ts";

/** Where faults go: the sandbox on this machine, or a staging node over SSH. */
export interface FaultSite {
  /** Where the fault scripts run. */
  target: Target;
  /** The active release (`<app>/current`), on the target. */
  release: string;
  appDir: string;
  /** The encryption key file on the target (`~/` allowed: the SSH user's home). */
  keyFile: string;
  /** This machine's audit log directory, when the drill may edit it (the sandbox's own). */
  auditStateDir?: string;
  /** Restarts the app as it normally runs, or with its health check failing (sandbox only). */
  restartApp?(faulty: boolean): Promise<void>;
  /** Whether the app answers its health check with 200. */
  healthy(): Promise<boolean>;
}

/** Fault kinds that need the sandbox: they edit this machine's audit log or the demo app. */
export const SANDBOX_ONLY: readonly FaultSpec["type"][] = ["audit-log-edit", "failed-release"];

async function exec(site: FaultSite, script: string): Promise<string> {
  const result = await site.target.exec({ script, timeoutMs: 60_000 });
  if (result.code !== 0) {
    throw new Error(`on ${site.target.name}: ${result.stderr.trim() || `exit ${result.code}`}`);
  }
  return result.stdout;
}

/** Reads a file on the target; undefined when it is not there. */
async function readOn(site: FaultSite, path: string): Promise<string | undefined> {
  const out = await exec(site, `f=${targetPath(path)}; [ -f "$f" ] && base64 -w0 < "$f" || true`);
  return out.trim() === "" && !(await existsOn(site, path)) ? undefined : out.trim();
}

async function existsOn(site: FaultSite, path: string): Promise<boolean> {
  return (await exec(site, `[ -e ${targetPath(path)} ] && echo yes || true`)).trim() === "yes";
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
  /** What cleaning needs (saved bytes as base64, a mode); internal. */
  saved: { text?: string; mode?: number; line?: number; created?: string[] };
  /** The planted process (`miner`). */
  pid?: number;
}

const DEFAULT_PATHS: Partial<Record<FaultSpec["type"], string>> = {
  webshell: "uploads/shell.php",
  "malicious-dependency": "vendor/acme/logger/src/Logger.php",
  "privileged-compose": "docker-compose.yml",
};

/** Which checks are expected to catch each kind of fault. */
export const DETECTED_BY: Record<FaultSpec["type"], string[]> = {
  webshell: [
    "security-audit/malicious-code",
    "trojansearch/trojan-files",
    "security-audit/release-manifest",
  ],
  miner: ["security-audit/suspicious-processes"],
  "privileged-compose": ["security-audit/compose-risks", "security-audit/release-manifest"],
  "world-readable-key": ["soc2/key-permissions", "security-audit/file-permissions"],
  "audit-log-edit": ["soc2/audit-logging"],
  "failed-release": ["health"],
  "malicious-dependency": [
    "security-audit/dependencies",
    "security-audit/malicious-code",
    "trojansearch/trojan-files",
    "security-audit/recent-changes",
  ],
};

async function plantFile(site: FaultSite, rel: string, text: string, ageDays?: number) {
  const path = join(site.release, rel);
  const out = await exec(site, plantScript(path, text, ageDays));
  const created = [...out.matchAll(/^created=(.*)$/gm)].map((m) => m[1]);
  const before = /^before=(.*)$/m.exec(out)?.[1];
  return { path, created, before };
}

/** Where the sandbox's audit log is; a fault that edits it needs the sandbox. */
function logOf(site: FaultSite, type: string): string {
  if (!site.auditStateDir) {
    throw new Error(
      `${type} cannot be injected on ${site.target.name}: it edits this machine's audit log; ` +
        "it runs in the local sandbox only",
    );
  }
  return join(site.auditStateDir, "deployments.log");
}

/**
 * Injects one fault at the site (the sandbox, or a staging node).
 *
 * @example
 * ```ts
 * // const miner = await injectFault(site, { type: "miner", name: "xmrig" }, 0);
 * // miner.marker === `pid ${miner.pid} `
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
      const pid = Number((await exec(site, minerScript(name))).trim());
      await waitFor(async () =>
        (await exec(site, `tr '\\0' ' ' < /proc/${pid}/cmdline 2>/dev/null || true`))
          .startsWith(name)
      );
      return done({ ...base, what: `pid ${pid} (${name})`, marker: `pid ${pid} `, saved: {}, pid });
    }
    case "privileged-compose": {
      const path = join(site.release, rel);
      const before = await readOn(site, path);
      const text = before === undefined
        ? "services:\n  app:\n    image: demo-app\n    privileged: true\n"
        : addPrivileged(decode(before));
      const planted = await plantFile(site, rel, text);
      return done({
        ...base,
        what: path,
        marker: rel,
        saved: { text: before, created: planted.created },
      });
    }
    case "world-readable-key": {
      const key = targetPath(site.keyFile);
      const mode = (await exec(site, `stat -c %a ${key}`)).trim();
      await exec(site, `chmod 644 ${key}`);
      return done({
        ...base,
        what: `${site.keyFile} mode 0644`,
        marker: "the key's mode is 0644",
        saved: { mode: parseInt(mode, 8) },
      });
    }
    case "audit-log-edit": {
      const log = logOf(site, spec.type);
      const lines = (await Deno.readTextFile(log)).split("\n");
      const line = Math.min(2, lines.length - 1);
      const original = lines[line - 1];
      lines[line - 1] = original.replace(/"status":"[a-z.]*"/, '"status":"edited-by-drill"');
      await Deno.writeTextFile(log, lines.join("\n"));
      return done({
        ...base,
        what: `${log} line ${line}`,
        marker: "the audit log does not verify",
        saved: { text: original, line },
      });
    }
    case "failed-release": {
      if (!site.restartApp) throw new Error(`${spec.type} runs in the local sandbox only`);
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

function decode(base64: string): string {
  return new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
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
    case "privileged-compose":
      await exec(site, restoreScript(fault.what, fault.saved.text, fault.saved.created ?? []));
      return;
    case "miner":
      // Gone already when the runbook contained it.
      await exec(site, `kill -KILL ${fault.pid} 2>/dev/null || true`);
      await waitFor(async () => !await runningOn(site, fault.pid!));
      return;
    case "world-readable-key": {
      const mode = (fault.saved.mode ?? 0o600).toString(8);
      await exec(site, `chmod ${mode} ${targetPath(site.keyFile)}`);
      return;
    }
    case "audit-log-edit": {
      const log = logOf(site, fault.type);
      const lines = (await Deno.readTextFile(log)).split("\n");
      lines[fault.saved.line! - 1] = fault.saved.text!;
      return await Deno.writeTextFile(log, lines.join("\n"));
    }
    case "failed-release":
      if (!await site.healthy()) await site.restartApp?.(false);
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
      const now = await readOn(site, fault.what);
      if (now !== fault.saved.text) return `${fault.what} still differs from before the drill`;
      for (const dir of fault.saved.created ?? []) {
        if (await existsOn(site, dir)) return `${dir} (created by the drill) still exists`;
      }
      return undefined;
    }
    case "miner":
      return await runningOn(site, fault.pid!)
        ? `process ${fault.pid} is still running`
        : undefined;
    case "world-readable-key": {
      const mode = parseInt((await exec(site, `stat -c %a ${targetPath(site.keyFile)}`)).trim(), 8);
      return mode === fault.saved.mode ? undefined : `key mode is ${mode.toString(8)}`;
    }
    case "audit-log-edit": {
      const lines = (await Deno.readTextFile(logOf(site, fault.type))).split("\n");
      return lines[fault.saved.line! - 1] === fault.saved.text
        ? undefined
        : `audit log line ${fault.saved.line} still edited`;
    }
    case "failed-release":
      return await site.healthy() ? undefined : "the app still fails its health check";
  }
}

/** Whether a pid runs on the site's target (a zombie awaiting its parent does not). */
async function runningOn(site: FaultSite, pid: number): Promise<boolean> {
  const state = await exec(site, `sed 's/.*) //' /proc/${pid}/stat 2>/dev/null | cut -c1 || true`);
  return state.trim() !== "" && !["Z", "X"].includes(state.trim());
}

/** Whether a pid runs on this machine (a zombie awaiting its parent does not). */
export async function running(pid: number): Promise<boolean> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
  if (!stat) return false;
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state !== "Z" && state !== "X";
}

async function waitFor(check: () => Promise<boolean>, limitMs = 5000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline && !await check()) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
