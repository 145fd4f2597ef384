/**
 * What SSH and a node cost before the tool does anything: the floors under issue 19's fleet
 * rows, measured on one sshd node on loopback (test/fixtures/sshd.ts), interleaved rounds.
 *
 * 1. **A bare connection** (`ssh node true`): the client's CPU (user + sys, `/usr/bin/time`)
 *    with OpenSSH's default key exchange and with `curve25519-sha256`, which an operator may
 *    choose in `~/.ssh/config`. The tool opens one connection a node, so this over 20 steps is
 *    the least its ssh clients add to the controller's CPU per node-step.
 * 2. **A step on the node**, as the tool launches it (bash with job control: `/bin/sh -c` in a
 *    process group of its own, waited for, the pid file emptied — `targets/ssh_command.ts`'s
 *    step function) and as plain `sh` runs `sh -c true` (no group of its own), 200 of each over
 *    one connection: the node's CPU per step (its sshd's reaped children), less that of the
 *    same connection with no steps. On loopback the nodes share the controller's cores, so this
 *    is what each node-step costs the machine besides the tool.
 *
 * Run: `deno run -A bench/ssh_floor_bench.ts [rounds=5]` (needs openssh-server).
 *
 * @module
 */
import { shellQuote } from "../src/shell/quote.ts";
import { startSshNodes } from "../test/fixtures/sshd.ts";

const ROUNDS = Number(Deno.args[0] ?? 5);
const STEPS_PER_NODE = 20; // as in fleet_bench.ts and ssh_bench.ts
const LAUNCHES = 200;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
const range = (values: number[], digits = 1) =>
  `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${
    Math.max(...values).toFixed(digits)
  })`;
const load = async () => (await Deno.readTextFile("/proc/loadavg")).split(" ")[0];

const dir = await Deno.makeTempDir({ prefix: "ssh-floor-bench-" });
const fleet = await startSshNodes(dir, 1, "floor");
const node = fleet.nodes[0];

function sshArgv(kex: string | undefined, command: string): string[] {
  return [
    "ssh",
    ...(kex ? ["-o", `KexAlgorithms=${kex}`] : []),
    "-o",
    "BatchMode=yes",
    "-o",
    `UserKnownHostsFile=${fleet.knownHosts}`,
    "-o",
    "StrictHostKeyChecking=accept-new",
    "-i",
    fleet.identity,
    "-o",
    "IdentitiesOnly=yes",
    "-p",
    String(node.port),
    `${fleet.user}@127.0.0.1`,
    command,
  ];
}

/** Runs argv under `/usr/bin/time`; returns its CPU (user + sys) in ms. */
async function clientCpuMs(argv: string[]): Promise<number> {
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "%U %S", ...argv],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`ssh failed: ${new TextDecoder().decode(out.stderr)}`);
  const [user, sys] = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1)!.split(" ");
  return (Number(user) + Number(sys)) * 1000;
}

/** CPU (ms) the node's sshd has reaped from its ended sessions so far. */
async function nodeCpuMs(): Promise<number> {
  const pid = node.process.pid;
  for (let i = 0; i < 200; i++) {
    if (!(await Deno.readTextFile(`/proc/${pid}/task/${pid}/children`)).trim()) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[13]) + Number(fields[14])) * 10; // cutime + cstime, 10 ms ticks
}

/** The node's CPU for one connection running `script`. */
async function onNode(script: string): Promise<number> {
  const before = await nodeCpuMs();
  await clientCpuMs(sshArgv(undefined, script));
  return await nodeCpuMs() - before;
}

const repeat = (line: string) => Array(LAUNCHES).fill(line).join("\n");
// The tool's step launch (bash, job control), and plain sh; `$f` is a pid file on the node.
const pidFile = 'f="${TMPDIR:-/tmp}/ssh-floor-bench.$$.pid"';
const TOOL_LAUNCH = `exec bash --norc --noprofile -c ${
  JSON.stringify(
    `set -m\n${pidFile}\n${
      repeat(`/bin/sh -c 'echo "$$" > "$1"; true' sh "$f" </dev/null & wait $!; : > "$f"`)
    }\nrm -f "$f"`,
  )
}`;
const PLAIN_SH = `exec /bin/sh -c ${shellQuote(repeat("/bin/sh -c true"))}`;

try {
  const loadBefore = await load();
  await clientCpuMs(sshArgv(undefined, "true")); // host key learnt, caches warm
  const pq: number[] = [], classic: number[] = [];
  const tool: number[] = [], plain: number[] = [], empty: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    pq.push(await clientCpuMs(sshArgv(undefined, "true")));
    classic.push(await clientCpuMs(sshArgv("curve25519-sha256", "true")));
    empty.push(await onNode("true"));
    tool.push(await onNode(TOOL_LAUNCH));
    plain.push(await onNode(PLAIN_SH));
  }
  const perStep = (runs: number[]) => runs.map((ms, i) => (ms - empty[i]) / LAUNCHES);
  console.log(`rounds: ${ROUNDS}, load ${loadBefore} → ${await load()} (median (min–max))\n`);
  console.log("| floor | ms |");
  console.log("| --- | --- |");
  console.log(`| client CPU, one connection, OpenSSH's default key exchange | ${range(pq, 0)} |`);
  console.log(`| same, \`KexAlgorithms=curve25519-sha256\` | ${range(classic, 0)} |`);
  console.log(
    `| the default's connection over ${STEPS_PER_NODE} steps: client CPU per node-step | ${
      range(pq.map((ms) => ms / STEPS_PER_NODE), 2)
    } |`,
  );
  console.log(
    `| same with curve25519-sha256 | ${range(classic.map((ms) => ms / STEPS_PER_NODE), 2)} |`,
  );
  console.log(`| node CPU of the connection itself (sshd, login) | ${range(empty, 0)} |`);
  console.log(
    `| node CPU per step launched as the tool does (bash, job control) | ${
      range(perStep(tool), 2)
    } |`,
  );
  console.log(`| node CPU per \`sh -c true\` from plain sh | ${range(perStep(plain), 2)} |`);
} finally {
  await fleet.stop();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
