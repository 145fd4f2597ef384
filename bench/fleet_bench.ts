/**
 * Fan-out: the same 20-step runbook through the CLI on 1, 10, 50 (and 100) sshd nodes on
 * loopback, next to `ansible-playbook` with `forks=N` on the same nodes.
 *
 * Each node is its own `sshd` (own port, own app directory, a clean HOME: see
 * test/fixtures/sshd.ts). On loopback the nodes' sshd and shells share the controller's cores,
 * which a real fleet does not, so besides wall time the figure that scales is the
 * **controller's own cost**: CPU of the tool plus its ssh clients, per node-step, and its peak
 * RSS. Measured with `/usr/bin/time` (the CLI and every process it waits for: its `ssh`
 * clients) plus the ssh master connections, which detach (`ssh -f`) and are therefore sampled
 * from /proc until they exit. Ansible is measured the same way, at its best (facts off,
 * pipelining on, sftp available) and cold: a fresh ControlPersist directory per run, its
 * masters stopped after it.
 *
 * Run: `deno run -A bench/fleet_bench.ts [--nodes 1,10,50] [--rounds 3] [--ansible 1,10]`
 * (`--ansible ""` skips Ansible; it must be installed: `apt-get install -y ansible`;
 * `--profile DIR` writes a V8 CPU profile of each CLI run to DIR; `--kex curve25519-sha256` runs
 * the CLI's ssh clients with that key exchange, as `~/.ssh/config` would choose it (README),
 * instead of OpenSSH's default; `--against DIR` runs another checkout's CLI too, alternated with
 * this one's on the same nodes, and prints its rows beside these). Besides the controller's cost
 * each row gives the nodes' own CPU per node-step (their sshd sessions, shells and step processes,
 * read from each sshd's reaped-children time): on loopback it shares the controller's cores.
 *
 * @module
 */
import { join } from "node:path";
import { cp } from "node:fs/promises";
import { generateSigningKey } from "../src/audit/mod.ts";
import { ensureStateDir } from "../src/state/mod.ts";
import { startSshNodes } from "../test/fixtures/sshd.ts";
import { writeStepsProject } from "../test/fixtures/steps_runbook.ts";
import { type Cost, measure } from "./process_cost.ts";
import { cliRunArgv, prepareCli } from "./cli_argv.ts";

const STEPS = 20;

function option(name: string, fallback: string): string {
  const at = Deno.args.indexOf(`--${name}`);
  return at >= 0 ? Deno.args[at + 1] ?? "" : fallback;
}
const sizesOf = (text: string) => text.split(",").filter(Boolean).map(Number);
const SIZES = sizesOf(option("nodes", "1,10,50"));
const ANSIBLE = sizesOf(option("ansible", "1,10"));
const ROUNDS = Number(option("rounds", "3"));
/** `--profile DIR`: the CLI writes a V8 CPU profile per run there (`--cpu-prof`). */
const PROFILE = option("profile", "");
const MAX = Math.max(...SIZES, ...ANSIBLE);
/** `--kex NAME`: the key exchange the CLI's ssh clients use (OpenSSH's default without it). */
const KEX = option("kex", "");
/** `--against DIR`: another checkout whose CLI runs beside this one's. */
const AGAINST = option("against", "");

const dir = await Deno.makeTempDir({ prefix: "fleet-bench-" });
const fleet = await startSshNodes(dir, MAX, "node");

/** Node i is in group `gN` for every size N ≥ i, so `--limit gN` picks the first N nodes. */
async function writeProject() {
  const project = await writeStepsProject(dir, {
    id: "twenty",
    count: STEPS,
    run: "true",
    concurrency: MAX,
  });
  const q = JSON.stringify;
  const sizes = [...new Set([...SIZES, ...ANSIBLE])];
  const nodes = fleet.nodes.map((node, i) => {
    const groups = sizes.filter((n) => i < n).map((n) => `g${n}`).join(", ");
    const app = join(dir, "apps", node.name);
    return `  ${node.name}: { host: 127.0.0.1, port: ${node.port}, groups: [${groups}], ` +
      `app: { dir: ${q(app)} } }`;
  });
  const config = join(dir, "protocol.yaml");
  await Deno.writeTextFile(
    config,
    [
      "app: { name: bench, repo: /nonexistent, dir: /tmp/bench-app, start: 'true', stop: 'true', " +
      "health: 'http://127.0.0.1:9/' }",
      'approval: { mode: "off", reason: "benchmark" }',
      `ssh: { user: ${q(fleet.user)}, identity: ${q(fleet.identity)}, known_hosts: ${
        q(fleet.knownHosts)
      } }`,
      "nodes:",
      ...nodes,
      "",
    ].join("\n"),
  );
  const stateDir = await ensureStateDir(join(dir, "state"));
  await generateSigningKey(stateDir);
  return { config, stateDir, project };
}

let runs = 0;
/**
 * A fresh copy of the keyed state dir for one run: every run ends by sealing its log (verify
 * the whole history, sign a checkpoint), so with one state dir for all runs each run would pay
 * for the entries of every run before it, and the later (larger) runs more than the earlier.
 */
async function freshStateDir(template: string): Promise<string> {
  const stateDir = join(dir, `state-${++runs}`);
  await cp(template, stateDir, { recursive: true });
  return stateDir;
}

/** CPU (ms) the first `size` nodes' sshd have reaped from their ended sessions so far. */
async function nodesCpuMs(size: number): Promise<number> {
  let total = 0;
  for (const node of fleet.nodes.slice(0, size)) {
    const pid = node.process.pid;
    // Wait for the session to end (its CPU is counted once it is reaped).
    for (let i = 0; i < 200; i++) {
      const children = await Deno.readTextFile(`/proc/${pid}/task/${pid}/children`);
      if (!children.trim()) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    total += (Number(fields[13]) + Number(fields[14])) * 10; // cutime + cstime
  }
  return total;
}

/** A run's cost with the nodes' CPU for it. */
interface RunCost extends Cost {
  nodesCpuMs: number;
}

async function ours(
  size: number,
  project: Awaited<ReturnType<typeof writeProject>>,
  checkout?: string,
): Promise<RunCost> {
  const stateDir = await freshStateDir(project.stateDir);
  const argv = cliRunArgv("twenty", {
    root: project.project,
    config: project.config,
    stateDir,
  }, {
    deno: Deno.execPath(),
    denoFlags: ["--quiet", ...(PROFILE ? ["--cpu-prof", "--cpu-prof-dir", PROFILE] : [])],
    runFlags: ["--yes", "--limit", `g${size}`],
    entry: "launch", // as `deno task` starts it
    checkout,
  });
  try {
    const before = await nodesCpuMs(size);
    const cost = await measure(argv, KEX ? await kexEnv(KEX) : {}, fleet.knownHosts);
    return { ...cost, nodesCpuMs: await nodesCpuMs(size) - before };
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
}

/**
 * A PATH whose first `ssh` adds `-o KexAlgorithms=kex` and execs the real one: what an operator
 * gets by choosing it in `~/.ssh/config` (which OpenSSH reads from the passwd entry's home, not
 * `$HOME`, so a benchmark cannot set it per run without touching the real one). The wrapper's
 * `exec` adds a shell start per node to the ssh clients' CPU.
 */
async function kexEnv(kex: string): Promise<Record<string, string>> {
  const bin = join(dir, "kex-bin");
  await Deno.mkdir(bin, { recursive: true });
  const ssh = join(bin, "ssh");
  await Deno.writeTextFile(ssh, `#!/bin/sh\nexec /usr/bin/ssh -o KexAlgorithms=${kex} "$@"\n`);
  await Deno.chmod(ssh, 0o755);
  return { PATH: `${bin}:${Deno.env.get("PATH")}` };
}

async function ansible(size: number): Promise<Cost> {
  const inventory = join(dir, `inventory-${size}.ini`);
  await Deno.writeTextFile(
    inventory,
    [
      "[web]",
      ...fleet.nodes.slice(0, size).map((node) =>
        `${node.name} ansible_host=127.0.0.1 ansible_port=${node.port} ansible_user=${fleet.user} ` +
        `ansible_ssh_private_key_file=${fleet.identity} ` +
        `ansible_ssh_common_args='-o UserKnownHostsFile=${fleet.knownHosts}'`
      ),
      "",
    ].join("\n"),
  );
  const playbook = join(dir, "twenty.yml");
  await Deno.writeTextFile(
    playbook,
    [
      "- hosts: web",
      "  gather_facts: false",
      "  tasks:",
      ...Array.from(
        { length: STEPS },
        (_, i) => `    - { name: "step ${i + 1}", command: /bin/true }`,
      ),
      "",
    ].join("\n"),
  );
  // Cold like the tool: a fresh ControlPersist directory, its masters stopped afterwards.
  const controlDir = await Deno.makeTempDir({ dir: "/tmp", prefix: "ans-cp-" });
  try {
    return await measure(
      ["ansible-playbook", "-i", inventory, "-f", String(size), playbook],
      {
        ANSIBLE_HOST_KEY_CHECKING: "True",
        ANSIBLE_PIPELINING: "True",
        ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
        ANSIBLE_LOCAL_TEMP: join(controlDir, "tmp"),
      },
      fleet.knownHosts,
    );
  } finally {
    for await (const entry of Deno.readDir(controlDir)) {
      if (entry.isFile || entry.isDirectory) continue; // the sockets
      await new Deno.Command("ssh", {
        args: ["-o", `ControlPath=${join(controlDir, entry.name)}`, "-O", "exit", "x"],
        stdout: "null",
        stderr: "null",
      }).output();
    }
    await Deno.remove(controlDir, { recursive: true }).catch(() => {});
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
const range = (values: number[], digits = 0) =>
  `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${
    Math.max(...values).toFixed(digits)
  })`;

interface Row {
  who: string;
  size: number;
  runs: (Cost & Partial<RunCost>)[];
}

function printRow({ who, size, runs }: Row, oneNodeWall?: number): void {
  const nodeSteps = size * STEPS;
  const wall = runs.map((r) => r.wallMs);
  const cpu = runs.map((r) => r.cpuMs / nodeSteps);
  const own = runs.map((r) => r.mainCpuMs / nodeSteps);
  const rss = runs.map((r) => r.peakRssKiB / 1024);
  const ratio = oneNodeWall ? `  ×${(median(wall) / oneNodeWall).toFixed(2)} of 1 node` : "";
  // Mostly the key exchange (sntrup761x25519 by default): ~0.1 s of client CPU per connection.
  const sshPerNode = runs.map((r) => (r.cpuMs - r.mainCpuMs) / size);
  console.log(
    `${who.padEnd(8)} ${String(size).padStart(3)} nodes  wall ${range(wall)} ms${ratio}\n` +
      `             CPU per node-step ${range(cpu, 2)} ms (main process ${
        range(own, 2)
      } ms, rest its ssh clients)\n` +
      `             ssh clients per node ${range(sshPerNode)} ms (connection set-up included)\n` +
      (runs[0].nodesCpuMs === undefined
        ? ""
        : `             nodes' own CPU per node-step ${
          range(runs.map((r) => r.nodesCpuMs! / nodeSteps), 2)
        } ms (sshd, shell, step processes)\n`) +
      `             peak RSS ${range(rss, 1)} MiB   load ${
        runs.map((r) => r.load.toFixed(1)).join("/")
      }`,
  );
}

try {
  const project = await writeProject();
  await prepareCli(); // the launcher's bundle exists before anything is timed
  if (AGAINST) await prepareCli(AGAINST);
  const rows: Row[] = [];
  // Interleaved: every size once per round, so load drifts hit all sizes alike; with
  // --against, both trees per size, in alternating order.
  const runs = new Map<string, RunCost[]>();
  const add = (key: string, cost: RunCost) => runs.set(key, [...runs.get(key) ?? [], cost]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const size of SIZES) {
      if (AGAINST && round % 2) add(`against ${size}`, await ours(size, project, AGAINST));
      add(`ours ${size}`, await ours(size, project));
      if (AGAINST && !(round % 2)) add(`against ${size}`, await ours(size, project, AGAINST));
    }
  }
  for (const size of SIZES) rows.push({ who: "protocol", size, runs: runs.get(`ours ${size}`)! });
  console.log(`${STEPS} trivial steps per node, rounds: ${ROUNDS} (median (min–max))\n`);
  const one = rows.find((r) => r.size === 1);
  for (const row of rows) printRow(row, one && median(one.runs.map((r) => r.wallMs)));
  if (AGAINST) {
    console.log(`\nthe same with ${AGAINST}:`);
    const theirs = SIZES.map((size) => ({
      who: "against",
      size,
      runs: runs.get(`against ${size}`)!,
    }));
    const theirOne = theirs.find((r) => r.size === 1);
    for (const row of theirs) printRow(row, theirOne && median(theirOne.runs.map((r) => r.wallMs)));
  }
  if (one) {
    const rss = (row: Row) => median(row.runs.map((r) => r.peakRssKiB)) / 1024;
    for (const row of rows.filter((r) => r.size > 1)) {
      console.log(
        `  RSS per node over 1 node at ${row.size}: ${
          ((rss(row) - rss(one)) / (row.size - 1)).toFixed(2)
        } MiB`,
      );
    }
  }
  for (const size of ANSIBLE) {
    const ansibleRuns: Cost[] = [];
    for (let round = 0; round < Math.min(ROUNDS, 2); round++) ansibleRuns.push(await ansible(size));
    const row = { who: "ansible", size, runs: ansibleRuns };
    printRow(row);
    const mine = rows.find((r) => r.size === size);
    if (mine) {
      const ratio = median(ansibleRuns.map((r) => r.wallMs)) /
        median(mine.runs.map((r) => r.wallMs));
      console.log(`  Ansible forks=${size} / protocol on ${size} node(s): ${ratio.toFixed(1)}×`);
    }
  }
} finally {
  await fleet.stop();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
