/**
 * Start-up and local step cost, as ratios from one run (these machines are shared and noisy):
 *
 * 1. **Start-up to the first step running**: from spawning the CLI's `run first` to the
 *    `date +%s%N` of the runbook's step 1, next to the Deno floor (a script that only spawns that
 *    `date`) — goal ≤150 ms. The CLI as `deno task` starts it (`src/cli/launch.ts`: from the
 *    bundle of the current sources), and from the sources (`src/cli/main.ts`) beside it. The step
 *    also reads the CPU time the `deno` process has used so far (`/proc/PID/stat`, 10 ms ticks):
 *    less sensitive to the machine's load than the wall time.
 *    A second floor is the least any first local step driven by dax can cost: a bundle (built
 *    as the CLI's is) that only imports dax's npm build (`npm:dax-sh`, the engine DESIGN.md
 *    names) and runs the step through its `$`. What the goal leaves above it is all the CLI has.
 * 2. **20 local steps vs plain `sh`**: a runbook stamps the time, runs 20 `true` steps, stamps
 *    again; `sh` does the same with `sh -c true` for each step — goal ≤4×. CPU per step is the
 *    user+sys time of the CLI and every process it started, for 22 steps minus that for 2, over
 *    20; next to it, the same for `sh` per command. Beside them, the floor of the design: bash
 *    (job control on, as the local shell runs) launching each step as the tool's step function
 *    does — `/bin/sh -c` in a process group of its own, waited for, the pid file emptied — with
 *    no tool at all.
 *
 * Runs are interleaved (tool, peer, tool, …); medians with min–max and the load average.
 * `--against DIR` adds another checkout of the project (with its own `node_modules`: `deno
 * install` there), started as `deno task` starts it, interleaved with this one's: a change and
 * `main`, measured at the same time on the same load.
 *
 * Run: `deno run -A bench/startup_bench.ts [rounds=7] [--against DIR]`
 *
 * @module
 */
import { join } from "node:path";
import { generateSigningKey } from "../src/audit/mod.ts";
import { ensureStateDir } from "../src/state/mod.ts";
import { bundleArgv } from "../src/cli/launch.ts";
import { cliRunArgv, prepareCli } from "./cli_argv.ts";

const against = Deno.args.indexOf("--against");
const OTHER = against >= 0 ? Deno.args[against + 1] : undefined;
const ROUNDS = Number(
  Deno.args.find((arg, i) => /^\d+$/.test(arg) && (against < 0 || i !== against + 1)) ?? 7,
);
const STEPS = 20;

/** Median and range of `values`, formatted. */
function summary(values: number[], unit = "ms"): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1];
  return `${median.toFixed(1)} ${unit} (${sorted[0].toFixed(1)}–${sorted.at(-1)!.toFixed(1)})`;
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
const load = async () =>
  (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
const nowNs = () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
const stampIn = async (file: string) => BigInt((await Deno.readTextFile(file)).trim());

const dir = await Deno.makeTempDir({ prefix: "startup-bench-" });
const project = join(dir, "project");
const stamps = join(dir, "stamps");
await Deno.mkdir(join(project, "runbooks"), { recursive: true });
await Deno.mkdir(stamps);
const step = (name: string, run: string) => `  - name: ${name}\n    run: '${run}'`;
const runbook = (id: string, steps: string[]) =>
  Deno.writeTextFile(
    join(project, "runbooks", `${id}.yaml`),
    `id: ${id}\ntitle: ${id}\nwhen: benchmarking\nsteps:\n${steps.join("\n")}\n`,
  );
// The stamp, then the CPU time (user + sys, all threads, in clock ticks) of the `deno` process
// that started this step, found up the parent chain (the step's shell, the run's local shell).
const FIRST = 'date +%s%N > "$STAMPS/first"; p=$$; ' +
  'while [ "$(cat /proc/$p/comm)" != deno ]; do p=$(cut -d" " -f4 /proc/$p/stat); done; ' +
  'cut -d" " -f14,15 /proc/$p/stat > "$STAMPS/cpu"';
await runbook("first", [step("stamp", FIRST)]);
const trues = Array.from({ length: STEPS }, (_, i) => step(`step ${i + 1}`, "true"));
await runbook("twenty", [
  step("stamp before", 'date +%s%N > "$STAMPS/t0"'),
  ...trues,
  step("stamp after", 'date +%s%N > "$STAMPS/t1"'),
]);
await runbook("two", [step("stamp before", "true"), step("stamp after", "true")]);
const config = join(dir, "protocol.yaml");
await Deno.writeTextFile(
  config,
  `app: { name: bench, repo: /nonexistent, dir: ${dir}/app, start: "true", stop: "true", ` +
    `health: "http://127.0.0.1:9/" }\n`,
);
const stateDir = await ensureStateDir(join(dir, "state"));
await generateSigningKey(stateDir);
const floor = join(dir, "floor.ts");
await Deno.writeTextFile(
  floor,
  `await new Deno.Command("sh", { args: ["-c", ${JSON.stringify(FIRST)}] }).output();\n`,
);
// The dax floor: the step run through dax's `$` by a bundle that imports nothing else.
const daxFloorSource = join(dir, "dax_floor.ts");
await Deno.writeTextFile(
  daxFloorSource,
  `import $ from "dax";\nawait $\`sh -c \${${JSON.stringify(FIRST)}}\`;\n`,
);
const daxFloor = join(dir, "dax_floor");
const root = new URL("../", import.meta.url).pathname;
const bundled = await new Deno.Command("deno", {
  args: bundleArgv(root, daxFloor).map((arg) =>
    arg.endsWith("src/cli/main.ts") ? daxFloorSource : arg
  ),
}).output();
if (!bundled.success) throw new Error(new TextDecoder().decode(bundled.stderr));
const daxFloorArgv = ["deno", "run", "-A", join(daxFloor, "dax_floor.js")];
const env = { STAMPS: stamps, NO_COLOR: "1" };

// The CLI as `deno task` starts it, and from the sources (cli_argv.ts, shared with the SSH benches).
const where = { root: project, config, stateDir };
const cli = (runbook: string) => cliRunArgv(runbook, where, { entry: "launch" });
const fromSource = (runbook: string) => cliRunArgv(runbook, where);
const other = (runbook: string) => cliRunArgv(runbook, where, { entry: "launch", checkout: OTHER });

/** Runs argv; returns its wall time and its CPU time (user+sys of it and its children). */
async function measure(argv: string[]): Promise<{ ms: number; cpuMs: number }> {
  const started = performance.now();
  const output = await new Deno.Command("bash", {
    args: ["-c", '"$@" >/dev/null 2>"$STAMPS/stderr" || exit 1; times', "bash", ...argv],
    env,
    stdin: "null",
  }).output();
  const ms = performance.now() - started;
  if (!output.success) {
    throw new Error(`${argv.join(" ")} failed: ${await Deno.readTextFile(join(stamps, "stderr"))}`);
  }
  // `times`: the shell's own user/sys, then its children's.
  const children = new TextDecoder().decode(output.stdout).trim().split("\n")[1];
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => +m[1] * 60 + +m[2]);
  return { ms, cpuMs: (seconds[0] + seconds[1]) * 1000 };
}

const TICK_MS = 10; // getconf CLK_TCK: 100 on Linux

/** Milliseconds from spawning argv to the stamp its first step writes, and CPU until then. */
async function toFirstStep(argv: string[]): Promise<{ ms: number; cpuMs: number }> {
  await Deno.remove(join(stamps, "first")).catch(() => {});
  const started = nowNs();
  await measure(argv);
  const [user, sys] = (await Deno.readTextFile(join(stamps, "cpu"))).trim().split(" ");
  return {
    ms: Number(await stampIn(join(stamps, "first")) - started) / 1e6,
    cpuMs: (Number(user) + Number(sys)) * TICK_MS,
  };
}

/** Milliseconds between the two stamps of a run of argv. */
async function between(argv: string[]): Promise<number> {
  await measure(argv);
  return Number(await stampIn(join(stamps, "t1")) - await stampIn(join(stamps, "t0"))) / 1e6;
}

try {
  const loadBefore = await load();
  // One warm-up of each, so caches (the bundle, transpiled sources, V8 code cache) are as a
  // user's are.
  await prepareCli();
  if (OTHER) await prepareCli(OTHER);
  await measure(cli("first"));
  if (OTHER) await measure(other("first"));
  await measure(fromSource("first"));
  await measure(["deno", "run", "-A", floor]);
  await measure(daxFloorArgv);
  const first: number[] = [], sourceFirst: number[] = [], floorFirst: number[] = [];
  const firstCpu: number[] = [], sourceCpu: number[] = [], floorCpu: number[] = [];
  const daxFirst: number[] = [], daxCpu: number[] = [];
  const otherFirst: number[] = [], otherCpu: number[] = [];
  const tool: number[] = [], shell: number[] = [], design: number[] = [];
  const cpu22: number[] = [], cpu2: number[] = [], shellCpu: number[] = [];
  const shellScript = [
    'date +%s%N > "$STAMPS/t0"',
    ...Array(STEPS).fill("sh -c true"),
    'date +%s%N > "$STAMPS/t1"',
  ].join("; ");
  // The same steps launched as the tool's local shell launches them (targets/ssh_command.ts's
  // step function), by bash alone.
  const pidFile = join(stamps, "step.pid");
  const designScript = [
    "set -m",
    'date +%s%N > "$STAMPS/t0"',
    ...Array(STEPS).fill(
      `/bin/sh -c 'echo "$$" > ${pidFile}; true' </dev/null & wait $!; : > ${pidFile}`,
    ),
    'date +%s%N > "$STAMPS/t1"',
  ].join("\n");
  for (let i = 0; i < ROUNDS; i++) {
    for (
      const [argv, wall, cpu] of [
        [cli("first"), first, firstCpu],
        [fromSource("first"), sourceFirst, sourceCpu],
        [["deno", "run", "-A", floor], floorFirst, floorCpu],
        [daxFloorArgv, daxFirst, daxCpu],
        ...OTHER ? [[other("first"), otherFirst, otherCpu] as const] : [],
      ] as const
    ) {
      const { ms, cpuMs } = await toFirstStep([...argv]);
      wall.push(ms);
      cpu.push(cpuMs);
    }
    tool.push(await between(cli("twenty")));
    shell.push(await between(["sh", "-c", shellScript]));
    design.push(await between(["bash", "--norc", "--noprofile", "-c", designScript]));
    shellCpu.push((await measure(["sh", "-c", shellScript])).cpuMs / STEPS);
    cpu22.push((await measure(cli("twenty"))).cpuMs);
    cpu2.push((await measure(cli("two"))).cpuMs);
  }
  const perStepCpu = cpu22.map((c, i) => (c - cpu2[i]) / STEPS);
  console.log(`load average before: ${loadBefore}; after: ${await load()}; rounds: ${ROUNDS}`);
  console.log("| measure | median (min–max) |");
  console.log("| --- | --- |");
  console.log(
    `| start → first step, \`run first\` (as \`deno task\` runs it) | ${summary(first)}; ` +
      `CPU ${summary(firstCpu)} |`,
  );
  console.log(
    `| same from the sources (\`src/cli/main.ts\`) | ${summary(sourceFirst)}; ` +
      `CPU ${summary(sourceCpu)} |`,
  );
  console.log(
    `| start → first step, Deno floor (a script spawning it) | ${summary(floorFirst)}; ` +
      `CPU ${summary(floorCpu)} |`,
  );
  console.log(
    `| start → first step, dax floor (a bundle importing \`npm:dax-sh\`, the step through its \`$\`) | ${
      summary(daxFirst)
    }; CPU ${summary(daxCpu)} |`,
  );
  if (OTHER) {
    console.log(
      `| same, \`${OTHER}\` (as \`deno task\` runs it) | ${summary(otherFirst)}; ` +
        `CPU ${summary(otherCpu)} |`,
    );
    console.log(
      `| ratio this checkout / \`${OTHER}\` | wall ${
        (median(first) / median(otherFirst)).toFixed(2)
      }×, CPU ${(median(firstCpu) / median(otherCpu)).toFixed(2)}× |`,
    );
  }
  console.log(
    `| ratio CLI / Deno floor | ${
      (median(first) / median(floorFirst)).toFixed(2)
    }× (goal: ≤150 ms) |`,
  );
  console.log(
    `| what the goal leaves above the dax floor | ${(150 - median(daxFirst)).toFixed(0)} ms |`,
  );
  console.log(`| ${STEPS} local steps (stamp to stamp), CLI | ${summary(tool)} |`);
  console.log(`| same ${STEPS} commands in plain sh (\`sh -c true\` each) | ${summary(shell)} |`);
  console.log(`| ratio CLI / sh | ${(median(tool) / median(shell)).toFixed(1)}× (goal: ≤4×) |`);
  console.log(
    `| same ${STEPS} launched as the local shell does (bash, job control, no tool) | ${
      summary(design)
    }: ${(median(design) / median(shell)).toFixed(1)}× sh |`,
  );
  console.log(
    `| CPU per local step, CLI and its processes ((22 − 2 steps) / 20) | ${summary(perStepCpu)} |`,
  );
  console.log(`| CPU per command, sh and its processes | ${summary(shellCpu)} |`);
} finally {
  await Deno.remove(dir, { recursive: true });
}
