/**
 * 20 trivial steps on one SSH node (a real sshd on loopback with a clean HOME and an sftp
 * subsystem, see `test/fixtures/sshd.ts`), the whole CLI command with its start-up, against:
 *
 * 1. `ansible-playbook` (facts off), and again with pipelining — goal: ≥30× faster;
 * 2. bash running one `ssh` per step over a ControlMaster it opens itself — goal: faster;
 * 3. the floor: the 20 commands streamed into one `ssh … sh -s`, plus Deno's own start-up —
 *    goal: ≤1.2×. `true` is a builtin of that `sh`, so the floor starts no process a step; the
 *    same floor with `/bin/sh -c true` a step shows what the node pays for a process per step
 *    (which the tool needs: each step its own process group).
 *
 * Every run starts cold, like the CLI (which opens its own master): bash opens a master, Ansible
 * gets a fresh ControlPath directory. Runs are interleaved; medians with min–max and the load.
 * The multi-node rows are `fleet_bench.ts`'s.
 *
 * Run: `deno run -A bench/ssh_bench.ts [rounds=5] [--steps 20] [--no-ansible] [--against DIR]`
 * (needs openssh-server; ansible for row 1: `apt-get install -y ansible`). `--against DIR` runs
 * the CLI of another checkout of the project too (its bundle launcher), interleaved with this
 * one's, and prints the ratio: a change measured against the tree before it at the same time.
 *
 * @module
 */
import { join } from "node:path";
import { generateSigningKey } from "../src/audit/mod.ts";
import { ensureStateDir } from "../src/state/mod.ts";
import { startSshNodes } from "../test/fixtures/sshd.ts";
import { cliRunArgv, prepareCli } from "./cli_argv.ts";

function option(name: string): string | undefined {
  const at = Deno.args.indexOf(`--${name}`);
  return at >= 0 ? Deno.args[at + 1] : undefined;
}
const ROUNDS = Number(Deno.args[0]?.startsWith("--") ? 5 : Deno.args[0] ?? 5);
const STEPS = Number(option("steps") ?? 20);
/** `--against DIR`: another checkout whose CLI is timed beside this one's. */
const AGAINST = option("against");
const ANSIBLE = !Deno.args.includes("--no-ansible");

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const median = (values: number[]) => sorted(values)[values.length >> 1];
const summary = (values: number[]) =>
  `${median(values).toFixed(0)} ms (${sorted(values)[0].toFixed(0)}–${
    sorted(values).at(-1)!.toFixed(0)
  })`;
const load = async () =>
  (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");

/** Wall milliseconds of argv; throws with its stderr when it fails. */
async function time(argv: string[], env: Record<string, string> = {}): Promise<number> {
  const started = performance.now();
  const output = await new Deno.Command(argv[0], { args: argv.slice(1), env, stdin: "null" })
    .output();
  const ms = performance.now() - started;
  if (!output.success) {
    throw new Error(`${argv.join(" ")}: ${new TextDecoder().decode(output.stderr).slice(-2000)}`);
  }
  return ms;
}

/** A CLI run: wall time, CPU of the CLI with its ssh client, CPU on the node. */
interface CliCost {
  wallMs: number;
  cpuMs: number;
  nodeCpuMs: number;
}

/** CPU (user + system, ms) of the children `pid` has waited for: for sshd, every session. */
async function reapedCpuMs(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[13]) + Number(fields[14])) * 10; // cutime, cstime (field 16, 17)
}

/** Whether `pid` still has a child (a session not ended yet). */
async function hasChildren(pid: number): Promise<boolean> {
  const children = await Deno.readTextFile(`/proc/${pid}/task/${pid}/children`).catch(() => "");
  return children.trim() !== "";
}

/**
 * Runs the CLI through `/usr/bin/time` (its CPU and its ssh client's) and reads what the node's
 * sshd spent on the session (its shell and every step) once the session has ended: CPU is what
 * a loaded machine still measures fairly, wall time is not.
 */
async function cliCost(argv: string[], sshd: number): Promise<CliCost> {
  const timeFile = await Deno.makeTempFile({ prefix: "ssh-bench-time-" });
  const nodeBefore = await reapedCpuMs(sshd);
  const wallMs = await time(["/usr/bin/time", "-f", "%U %S", "-o", timeFile, ...argv]);
  for (let i = 0; i < 200 && await hasChildren(sshd); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const [user, system] = (await Deno.readTextFile(timeFile)).trim().split("\n").at(-1)!
    .split(" ").map(Number);
  await Deno.remove(timeFile);
  return {
    wallMs,
    cpuMs: (user + system) * 1000,
    nodeCpuMs: await reapedCpuMs(sshd) - nodeBefore,
  };
}

const has = async (command: string) =>
  (await new Deno.Command("sh", { args: ["-c", `command -v ${command}`], stdout: "null" })
    .output()).success;

const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "ssh-bench-" });
const fleet = await startSshNodes(dir, 1);
const node = fleet.nodes[0];
try {
  const sshOptions = [
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${fleet.knownHosts}`,
    "-i",
    fleet.identity,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "LogLevel=ERROR",
    "-p",
    String(node.port),
  ];
  const destination = `${fleet.user}@127.0.0.1`;

  // The tool: a 20-step runbook on the node, the whole command.
  const project = join(dir, "project");
  await Deno.mkdir(join(project, "runbooks"), { recursive: true });
  const steps = Array.from(
    { length: STEPS },
    (_, i) => `  - { name: "step ${i + 1}", run: "true" }`,
  );
  await Deno.writeTextFile(
    join(project, "runbooks", "twenty.yaml"),
    `id: twenty\ntitle: Twenty trivial steps\nwhen: Benchmarks\non: web\nsteps:\n${
      steps.join("\n")
    }\n`,
  );
  const q = JSON.stringify;
  const config = join(dir, "protocol.yaml");
  await Deno.writeTextFile(
    config,
    [
      `app: { name: bench, repo: /nonexistent, dir: ${dir}/app, start: 'true', stop: 'true', ` +
      `health: 'http://127.0.0.1:9/' }`,
      `ssh: { user: ${q(fleet.user)}, identity: ${q(fleet.identity)}, known_hosts: ${
        q(fleet.knownHosts)
      } }`,
      `nodes:\n  ${node.name}: { host: 127.0.0.1, port: ${node.port}, groups: [web] }`,
      "",
    ].join("\n"),
  );
  const stateDir = await ensureStateDir(join(dir, "state"));
  await generateSigningKey(stateDir);
  // As `deno task` starts it: the bundle launcher (built before anything is timed).
  const tool = cliRunArgv("twenty", { root: project, config, stateDir }, { entry: "launch" });
  await prepareCli();
  const other = AGAINST &&
    cliRunArgv("twenty", { root: project, config, stateDir }, {
      entry: "launch",
      checkout: AGAINST,
    });
  if (AGAINST) await prepareCli(AGAINST);

  // bash: a master, then one ssh per step over it, then the master's exit.
  const control = join(dir, "cm.sock");
  const mux = ["-o", `ControlPath=${control}`];
  const bash = [
    "bash",
    "-c",
    [
      `set -e; o=(${sshOptions.map((o) => q(o)).join(" ")} ${mux.map((o) => q(o)).join(" ")})`,
      `ssh "\${o[@]}" -o ControlMaster=yes -o ControlPersist=30 -f -N ${destination}`,
      `for i in $(seq ${STEPS}); do ssh "\${o[@]}" -o ControlMaster=no ${destination} true; done`,
      `ssh "\${o[@]}" -O exit ${destination} 2>/dev/null`,
    ].join("\n"),
  ];

  // The floor: the same 20 commands streamed into one remote sh, plus Deno's start-up; and the
  // same with a process per step.
  const streamed = (command: string) => [
    "sh",
    "-c",
    `yes ${q(command)} | head -n ${STEPS} | ssh ${
      sshOptions.map((o) => q(o)).join(" ")
    } ${destination} sh -s`,
  ];
  const stream = streamed("true");
  const streamProcesses = streamed("/bin/sh -c true");
  const empty = join(dir, "empty.ts");
  await Deno.writeTextFile(empty, "\n");
  const denoStart = ["deno", "run", "-A", empty];

  // Ansible: same 20 tasks, facts off, cold (a fresh ControlPath directory per run).
  const ansible = ANSIBLE && await has("ansible-playbook");
  const inventory = join(dir, "inventory.ini");
  const playbook = join(dir, "twenty.yml");
  await Deno.writeTextFile(
    inventory,
    `[web]\n${node.name} ansible_host=127.0.0.1 ansible_port=${node.port} ` +
      `ansible_user=${fleet.user} ansible_ssh_private_key_file=${fleet.identity} ` +
      `ansible_ssh_common_args='-o UserKnownHostsFile=${fleet.knownHosts}'\n`,
  );
  await Deno.writeTextFile(
    playbook,
    `- hosts: web\n  gather_facts: false\n  tasks:\n${
      Array.from({ length: STEPS }, (_, i) => `    - { name: "step ${i + 1}", command: /bin/true }`)
        .join("\n")
    }\n`,
  );
  const ansibleRun = async (pipelining: boolean) => {
    const controlDir = await Deno.makeTempDir({ dir: "/tmp", prefix: "ans-cp-" });
    try {
      return await time(["ansible-playbook", "-i", inventory, playbook], {
        ANSIBLE_HOST_KEY_CHECKING: "True",
        ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
        ANSIBLE_PIPELINING: pipelining ? "True" : "False",
        ANSIBLE_LOCAL_TEMP: join(controlDir, "tmp"),
      });
    } finally {
      await Deno.remove(controlDir, { recursive: true }).catch(() => {});
    }
  };

  const loadBefore = await load();
  await time(tool); // warm caches, as a user's are
  if (other) await time(other);
  const master: number[] = [], floor: number[] = [], starts: number[] = [];
  const floorProcesses: number[] = [];
  const ans: number[] = [], ansPipe: number[] = [];
  const ourCosts: CliCost[] = [], theirCosts: CliCost[] = [];
  const sshd = node.process.pid;
  for (let i = 0; i < ROUNDS; i++) {
    // Alternate which tree goes first, so neither always follows the same neighbour.
    if (other && i % 2) theirCosts.push(await cliCost(other, sshd));
    ourCosts.push(await cliCost(tool, sshd));
    if (other && !(i % 2)) theirCosts.push(await cliCost(other, sshd));
    master.push(await time(bash));
    floor.push(await time(stream));
    floorProcesses.push(await time(streamProcesses));
    starts.push(await time(denoStart));
    if (ansible) {
      ans.push(await ansibleRun(false));
      ansPipe.push(await ansibleRun(true));
    }
  }
  const ours = ourCosts.map((c) => c.wallMs), theirs = theirCosts.map((c) => c.wallMs);
  const floorTotal = floor.map((f, i) => f + starts[i]);
  const floorProcessesTotal = floorProcesses.map((f, i) => f + starts[i]);
  const tool1 = median(ours);
  console.log(`load average before: ${loadBefore}; after: ${await load()}; rounds: ${ROUNDS}`);
  console.log(`| ${STEPS} trivial steps on 1 node | median (min–max) | ratio | goal |`);
  console.log("| --- | --- | --- | --- |");
  console.log(`| CLI \`run twenty\` (start-up included) | ${summary(ours)} | 1 | |`);
  const cpu = (costs: CliCost[], key: keyof CliCost) => costs.map((c) => c[key]);
  console.log(`| CLI CPU (with its ssh client) | ${summary(cpu(ourCosts, "cpuMs"))} | | |`);
  console.log(`| node CPU (sshd, shell, steps) | ${summary(cpu(ourCosts, "nodeCpuMs"))} | | |`);
  if (other) {
    const ratio = (key: keyof CliCost) =>
      (median(cpu(ourCosts, key)) / median(cpu(theirCosts, key))).toFixed(3);
    console.log(
      `| CLI of ${AGAINST} | ${summary(theirs)} | this tree takes ${ratio("wallMs")}× its time | |`,
    );
    console.log(
      `| its CLI CPU | ${summary(cpu(theirCosts, "cpuMs"))} | this tree ${ratio("cpuMs")}× | |`,
    );
    console.log(
      `| its node CPU | ${summary(cpu(theirCosts, "nodeCpuMs"))} | this tree ${
        ratio("nodeCpuMs")
      }× | |`,
    );
  }
  if (ansible) {
    console.log(
      `| ansible-playbook, facts off | ${summary(ans)} | ${
        (median(ans) / tool1).toFixed(1)
      }× slower than CLI | ≥30× |`,
    );
    console.log(
      `| ansible-playbook, facts off, pipelining | ${summary(ansPipe)} | ${
        (median(ansPipe) / tool1).toFixed(1)
      }× slower than CLI | |`,
    );
  } else if (ANSIBLE) {
    console.log("| ansible-playbook | not installed: `apt-get install -y ansible` | | |");
  }
  console.log(
    `| bash, one ssh per step over a ControlMaster | ${summary(master)} | ${
      (median(master) / tool1).toFixed(2)
    }× CLI's time | >1 |`,
  );
  console.log(
    `| floor: one \`ssh … sh -s\` + Deno start-up | ${summary(floorTotal)} | CLI ${
      (tool1 / median(floorTotal)).toFixed(2)
    }× floor | ≤1.2× |`,
  );
  console.log(
    `| same floor, \`/bin/sh -c true\` a step (a process each) | ${
      summary(floorProcessesTotal)
    } | CLI ${(tool1 / median(floorProcessesTotal)).toFixed(2)}× | |`,
  );
} finally {
  await fleet.stop();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
