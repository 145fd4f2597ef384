/**
 * What a command costs the machine that runs it: wall time, CPU of the command and of every
 * process it starts, and its peak RSS. `/usr/bin/time` reports the command plus the children it
 * waited for; ssh master connections detach (`ssh -f`, reparented to init) and escape that, so
 * they are sampled from /proc every 50 ms while the command runs (a master is recognised by its
 * command line naming the benchmark's known_hosts file and a `ControlMaster` option).
 *
 * @example
 * ```ts
 * import { measure } from "./process_cost.ts";
 * const cost = await measure(["sh", "-c", "true"], {}, "/nonexistent/known_hosts");
 * console.log(cost.wallMs, cost.cpuMs, cost.peakRssKiB);
 * ```
 * @module
 */

/** One measured run. */
export interface Cost {
  wallMs: number;
  /** The command, the children it waited for, and the detached ssh masters. */
  cpuMs: number;
  /** The command's main process alone (sampled: up to 50 ms of its last CPU may be missed). */
  mainCpuMs: number;
  /** Peak RSS of the largest process (the main one), from `/usr/bin/time`. */
  peakRssKiB: number;
  /** The 1-minute load average when the run ended. */
  load: number;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux.

interface Sample {
  ppid: number;
  cpuMs: number;
  comm: string;
}

async function readStat(pid: number): Promise<Sample | undefined> {
  const text = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => undefined);
  if (!text) return undefined;
  const close = text.lastIndexOf(")");
  const comm = text.slice(text.indexOf("(") + 1, close);
  const fields = text.slice(close + 2).split(" ");
  // fields[0] is state (field 3); ppid is field 4, utime 14, stime 15.
  return {
    comm,
    ppid: Number(fields[1]),
    cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS,
  };
}

/** Runs `argv` with `env` added and reports what it cost. */
export async function measure(
  argv: string[],
  env: Record<string, string>,
  knownHosts: string,
): Promise<Cost> {
  const timeFile = await Deno.makeTempFile({ prefix: "cost-" });
  const started = performance.now();
  const child = new Deno.Command("/usr/bin/time", {
    args: ["-f", "%e %U %S %M", "-o", timeFile, ...argv],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const masters = new Map<number, { cpuMs: number; detached: boolean }>();
  const checked = new Map<number, boolean>();
  let mainCpuMs = 0;
  let running = true;
  const sample = async () => {
    const table = new Map<number, Sample>();
    for await (const entry of Deno.readDir("/proc")) {
      const pid = Number(entry.name);
      if (!pid) continue;
      const stat = await readStat(pid);
      if (stat) table.set(pid, stat);
    }
    const ours = new Set([child.pid]);
    for (let grew = true; grew;) {
      grew = false;
      for (const [pid, stat] of table) {
        if (!ours.has(pid) && ours.has(stat.ppid)) grew = ours.add(pid) !== undefined;
      }
    }
    for (const [pid, stat] of table) {
      if (stat.ppid === child.pid) mainCpuMs = stat.cpuMs;
      if (stat.comm !== "ssh") continue;
      if (!checked.has(pid)) {
        const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => "");
        checked.set(pid, cmdline.includes(knownHosts) && cmdline.includes("ControlMaster"));
      }
      if (checked.get(pid)) masters.set(pid, { cpuMs: stat.cpuMs, detached: !ours.has(pid) });
    }
  };
  const sampler = (async () => {
    while (running) {
      await sample();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const output = await child.output();
  const wallMs = performance.now() - started;
  running = false;
  await sampler;
  if (!output.success) {
    throw new Error(
      `${argv.join(" ")} failed:\n${new TextDecoder().decode(output.stderr).slice(-2000)}` +
        new TextDecoder().decode(output.stdout).slice(-2000),
    );
  }
  const [, user, system, rss] = (await Deno.readTextFile(timeFile)).trim().split("\n").at(-1)!
    .split(" ").map(Number);
  await Deno.remove(timeFile);
  const detachedMs = [...masters.values()].filter((m) => m.detached)
    .reduce((sum, m) => sum + m.cpuMs, 0);
  return {
    wallMs,
    cpuMs: (user + system) * 1000 + detachedMs,
    mainCpuMs,
    peakRssKiB: rss,
    load: Number((await Deno.readTextFile("/proc/loadavg")).split(" ")[0]),
  };
}
