/**
 * Where a local step's time goes, as three figures from one interleaved run (this machine is
 * shared and noisy, so read the ratios):
 *
 * 1. **plain sh**: `sh -c true` 20 times from one `sh`, stamp to stamp — the peer of issue 19's
 *    "20 local steps vs sh" row;
 * 2. **the local target alone**: 20 steps of `true` through a session `LocalTarget` (the run's
 *    long-lived local shell) in this process, with a pause between steps standing in for the
 *    work a run does between them (audit entry, record line: `--gap`, default 2 ms, not
 *    counted) — the shell, its framing and dax;
 * 3. **the whole CLI**: `run` of a runbook of 20 `true` steps, stamp to stamp (as
 *    `startup_bench.ts` measures it): the target plus the run's own work a step.
 *
 * The CLI's time a step minus the target's is the run's own work a step (audit, record, output).
 *
 * `--against DIR` (repeatable) measures the target and the CLI of another checkout too (its
 * `src/`, e.g. an older commit unpacked with its `node_modules`), interleaved with this one's.
 *
 * Run: `deno run -A bench/local_step_bench.ts [rounds=7] [--gap 2] [--against DIR …]`
 *
 * @module
 */
import { join } from "node:path";
import { generateSigningKey } from "../src/audit/mod.ts";
import { ensureStateDir } from "../src/state/mod.ts";
import { LocalTarget } from "../src/targets/local.ts";
import { cliRunArgv, ENTRIES } from "./cli_argv.ts";

const STEPS = 20;
const option = (name: string) => {
  const at = Deno.args.indexOf(name);
  return at < 0 ? undefined : Deno.args[at + 1];
};
const GAP_MS = Number(option("--gap") ?? 2);
/** Every `--against DIR` given. */
const AGAINST = Deno.args.flatMap((arg, i) => arg === "--against" ? [Deno.args[i + 1]] : []);
const ROUNDS = Number(Deno.args[0]?.match(/^\d+$/) ? Deno.args[0] : 7);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return `${median(values).toFixed(2)} ms (${sorted[0].toFixed(2)}–${sorted.at(-1)!.toFixed(2)})`;
};
const load = async () =>
  (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const dir = await Deno.makeTempDir({ prefix: "local-step-bench-" });
const stamps = join(dir, "stamps");
const project = { root: join(dir, "project"), config: join(dir, "protocol.yaml"), stateDir: "" };
await Deno.mkdir(join(project.root, "runbooks"), { recursive: true });
const stamp = `date +%s%N >> ${stamps}`;
const steps = [stamp, ...Array(STEPS).fill("true"), stamp]
  .map((run, i) => `  - name: step ${i}\n    run: '${run}'`);
await Deno.writeTextFile(
  join(project.root, "runbooks", "twenty.yaml"),
  `id: twenty\ntitle: twenty\nwhen: benchmarking\nsteps:\n${steps.join("\n")}\n`,
);
await Deno.writeTextFile(
  project.config,
  `app: { name: bench, repo: /nonexistent, dir: ${dir}/app, start: "true", stop: "true", ` +
    `health: "http://127.0.0.1:9/" }\n`,
);
project.stateDir = await ensureStateDir(join(dir, "state"));
await generateSigningKey(project.stateDir);

/** Milliseconds a step between the two stamps `argv` writes. */
async function stampedPerStep(argv: string[]): Promise<number> {
  await Deno.remove(stamps).catch(() => {});
  const output = await new Deno.Command(argv[0], { args: argv.slice(1), stdin: "null" }).output();
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
  const [t0, t1] = (await Deno.readTextFile(stamps)).trim().split("\n").map(BigInt);
  return Number(t1 - t0) / 1e6 / STEPS;
}

type Target = Pick<LocalTarget, "exec" | "close">;

/** Milliseconds a step of `true` through a session local target, pauses not counted. */
async function targetPerStep(make: () => Target): Promise<number> {
  const target = make();
  try {
    await target.exec({ script: "true" });
    let total = 0;
    for (let i = 0; i < STEPS; i++) {
      await pause(GAP_MS);
      const started = performance.now();
      const result = await target.exec({ script: "true" });
      total += performance.now() - started;
      if (result.code !== 0) throw new Error(result.stderr);
    }
    return total / STEPS;
  } finally {
    await target.close();
  }
}

/** A tree's local target and CLI: this one's, or the one `--against` names. */
interface Tree {
  name: string;
  target: () => Target;
  cli: string[];
}

async function tree(root?: string): Promise<Tree> {
  const cli = cliRunArgv("twenty", project);
  if (!root) return { name: "this tree", target: () => new LocalTarget({ session: true }), cli };
  const module = await import(`file://${root}/src/targets/local.ts`);
  const here = ENTRIES.source.slice(0, -"src/cli/main.ts".length);
  return {
    name: root,
    target: () => new module.LocalTarget({ session: true }),
    cli: cli.map((arg) => arg.startsWith(here) ? `${root}/${arg.slice(here.length)}` : arg),
  };
}

try {
  const sh = ["sh", "-c", [stamp, ...Array(STEPS).fill("sh -c true"), stamp].join("; ")];
  const trees = [await tree(), ...await Promise.all(AGAINST.map(tree))];
  for (const { cli } of trees) await stampedPerStep(cli); // warm-up: transpiled sources, caches
  const before = await load();
  const shell: number[] = [];
  const figures = trees.map(() => ({ target: [] as number[], cli: [] as number[] }));
  for (let round = 0; round < ROUNDS; round++) {
    shell.push(await stampedPerStep(sh));
    for (const [i, { target, cli }] of trees.entries()) {
      figures[i].target.push(await targetPerStep(target));
      figures[i].cli.push(await stampedPerStep(cli));
    }
  }
  const sh1 = median(shell);
  console.log(`load average before: ${before}; after: ${await load()}; rounds: ${ROUNDS}`);
  console.log("| a step of `true` | median (min–max) | × sh |");
  console.log("| --- | --- | --- |");
  console.log(`| plain sh (\`sh -c true\`) | ${summary(shell)} | 1 |`);
  for (const [i, { name }] of trees.entries()) {
    const { target, cli } = figures[i];
    const [target1, cli1] = [median(target), median(cli)];
    console.log(
      `| ${name}: local target alone (${GAP_MS} ms between steps) | ${summary(target)} | ` +
        `${(target1 / sh1).toFixed(1)} |`,
    );
    console.log(`| ${name}: whole CLI (\`run\`) | ${summary(cli)} | ${(cli1 / sh1).toFixed(1)} |`);
    console.log(
      `| ${name}: the run's own work a step (CLI − target) | ${(cli1 - target1).toFixed(2)} ms | |`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
