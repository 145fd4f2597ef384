/**
 * How long `deno task sop:deploy v1.2.0` takes from the command starting to its first step
 * running (median of 5), and the per-step overhead of a 20-step local runbook against the same
 * 20 commands in one plain `sh` — as ratios from one run, since these machines are noisy.
 *
 * Run: `deno run -A bench/startup_bench.ts`
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createDemoWorld, stopDemoApp } from "../src/demo/app.ts";
import { generateSigningKey } from "../src/audit/mod.ts";
import { ensureStateDir } from "../src/state/mod.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

/** Milliseconds from spawn until stderr shows the first step (`P1`) starting. */
async function timeToFirstStep(env: Record<string, string>): Promise<number> {
  const started = performance.now();
  const child = new Deno.Command("deno", {
    args: ["task", "-q", "sop:deploy", "v1.2.0", "--yes"],
    cwd: root,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let seen = "";
  let elapsed = NaN;
  for await (const chunk of child.stderr) {
    seen += decoder.decode(chunk, { stream: true });
    if (Number.isNaN(elapsed) && /\bP1\b/.test(seen)) elapsed = performance.now() - started;
  }
  const status = await child.status;
  if (!status.success) throw new Error(`deploy failed:\n${seen}`);
  return elapsed;
}

const dir = await Deno.makeTempDir({ prefix: "protocol-bench-" });
const world = await createDemoWorld(dir);
try {
  await ensureStateDir(world.stateDir);
  await generateSigningKey(world.stateDir);
  const env = { PROTOCOL_CONFIG: world.config, PROTOCOL_STATE_DIR: world.stateDir, NO_COLOR: "1" };
  const firstStep: number[] = [];
  for (let i = 0; i < 5; i++) firstStep.push(await timeToFirstStep(env));

  const steps = Array.from({ length: 20 }, (_, i) => `  - name: step ${i + 1}\n    run: "true"`);
  const project = join(dir, "project");
  await Deno.mkdir(join(project, "runbooks"), { recursive: true });
  await Deno.writeTextFile(
    join(project, "runbooks", "twenty.yaml"),
    `id: twenty\ntitle: Twenty steps\nwhen: benchmarking\nsteps:\n${steps.join("\n")}\n`,
  );
  const time = async (command: string, args: string[]) => {
    const started = performance.now();
    const output = await new Deno.Command(command, { args, cwd: root, env, stdin: "null" })
      .output();
    if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
    return performance.now() - started;
  };
  const runbook: number[] = [];
  const shell: number[] = [];
  for (let i = 0; i < 3; i++) {
    runbook.push(
      await time("deno", ["run", "-A", "src/cli/main.ts", "run", "twenty", "--root", project]),
    );
    shell.push(await time("sh", ["-c", Array(20).fill("sh -c true").join("; ")]));
  }
  console.log("| measure | value |");
  console.log("| --- | --- |");
  console.log(
    `| sop:deploy start → first step (median of 5) | ${median(firstStep).toFixed(0)} ms |`,
  );
  console.log(
    `| 20-step local runbook, whole command (median of 3) | ${median(runbook).toFixed(0)} ms |`,
  );
  console.log(`| same 20 commands in plain sh (median of 3) | ${median(shell).toFixed(0)} ms |`);
  console.log(`| runbook / plain sh | ${(median(runbook) / median(shell)).toFixed(1)}× |`);
} finally {
  await stopDemoApp(world);
  await Deno.remove(dir, { recursive: true });
}
