/**
 * SSH targets against real sshd servers on loopback, as ratios from one run:
 *
 * 1. per-step overhead of 20 trivial steps on one node: a new `ssh` per step (no reuse), an
 *    `ssh` per step over the ControlMaster, and our streamed remote shell;
 * 2. the same 20-step runbook through the CLI (`run`, parallel strategy) on 1 and on 10 nodes;
 * 3. the same 20 tasks as an Ansible playbook (`ansible-playbook`, `apt-get install ansible`)
 *    on the same 1 and 10 sshd nodes, when Ansible is installed.
 *
 * Run: `deno run -A bench/ssh_bench.ts` (needs openssh-server; root or the sshd user).
 *
 * @module
 */
import $ from "dax";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateSigningKey } from "../src/audit/mod.ts";
import { ensureStateDir } from "../src/state/mod.ts";
import { type SshReuse, SshTarget } from "../src/targets/ssh.ts";
import { startSshNodes } from "../test/fixtures/sshd.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const STEPS = 20;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

const dir = await Deno.makeTempDir({ prefix: "ssh-bench-" });
const fleet = await startSshNodes(dir, 10);
const settings = {
  hostKeys: "strict" as const,
  knownHosts: fleet.knownHosts,
  connectTimeout: 5,
  persist: 30,
};
const endpoint = (i: number) => ({
  name: fleet.nodes[i].name,
  host: "127.0.0.1",
  port: fleet.nodes[i].port,
  user: fleet.user,
  identity: fleet.identity,
});

async function stepsOver(reuse: SshReuse): Promise<number> {
  const controlDir = await Deno.makeTempDir({ dir: "/tmp", prefix: "ctl-" });
  const target = new SshTarget(endpoint(0), { settings, controlDir, reuse });
  const started = performance.now();
  for (let i = 0; i < STEPS; i++) {
    const result = await target.exec({ script: "true" });
    if (result.code !== 0) throw new Error(`step failed over ${reuse}: ${result.stderr}`);
  }
  const elapsed = performance.now() - started;
  await target.close();
  await Deno.remove(controlDir, { recursive: true }).catch(() => {});
  return elapsed;
}

async function writeProject(): Promise<{ config: string; stateDir: string; project: string }> {
  const project = join(dir, "project");
  await Deno.mkdir(join(project, "runbooks"), { recursive: true });
  const steps = Array.from(
    { length: STEPS },
    (_, i) => `  - { name: "step ${i + 1}", run: "true" }`,
  );
  await Deno.writeTextFile(
    join(project, "runbooks", "twenty.yaml"),
    [
      "id: twenty",
      "title: Twenty trivial steps",
      "when: Benchmarks",
      "on: web",
      "strategy: { kind: parallel, concurrency: 10 }",
      "steps:",
      ...steps,
      "",
    ].join("\n"),
  );
  const q = JSON.stringify;
  const nodes = fleet.nodes.map((node) =>
    `  ${node.name}: { host: 127.0.0.1, port: ${node.port}, groups: [web] }`
  );
  const config = join(dir, "protocol.yaml");
  await Deno.writeTextFile(
    config,
    [
      "app: { name: bench, repo: /nonexistent, dir: /tmp/bench-app, start: 'true', stop: 'true', health: 'http://127.0.0.1:9/' }",
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

async function runbookOn(
  limit: string,
  project: { config: string; stateDir: string; project: string },
) {
  const started = performance.now();
  await $`deno run -A --quiet --config ${join(root, "deno.json")} ${
    join(root, "src/cli/main.ts")
  } run twenty --limit ${limit} --root ${project.project} --config ${project.config} --state-dir ${project.stateDir}`
    .quiet();
  return performance.now() - started;
}

async function ansibleOn(count: number): Promise<number | undefined> {
  if (!await $.commandExists("ansible-playbook")) return undefined;
  const inventory = join(dir, `inventory-${count}.ini`);
  await Deno.writeTextFile(
    inventory,
    [
      "[web]",
      ...fleet.nodes.slice(0, count).map((node) =>
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
  const started = performance.now();
  await $`ansible-playbook -i ${inventory} -f 10 ${playbook}`.env({
    ANSIBLE_HOST_KEY_CHECKING: "True",
  }).quiet();
  return performance.now() - started;
}

try {
  const rounds = 3;
  const per: Record<SshReuse, number[]> = { none: [], master: [], session: [] };
  for (let i = 0; i < rounds; i++) {
    for (const reuse of ["none", "master", "session"] as SshReuse[]) {
      per[reuse].push(await stepsOver(reuse));
    }
  }
  const none = median(per.none), master = median(per.master), session = median(per.session);
  console.log(`${STEPS} trivial steps on one node (median of ${rounds}):`);
  console.log(
    `  new ssh per step (no reuse):   ${none.toFixed(0)} ms  (${
      (none / STEPS).toFixed(1)
    } ms/step)`,
  );
  console.log(
    `  ssh per step over ControlMaster: ${master.toFixed(0)} ms  (${
      (master / STEPS).toFixed(1)
    } ms/step)`,
  );
  console.log(
    `  streamed remote shell (ours):  ${session.toFixed(0)} ms  (${
      (session / STEPS).toFixed(1)
    } ms/step)`,
  );
  console.log(
    `  ratios: no reuse / ours = ${(none / session).toFixed(1)}×, master / ours = ${
      (master / session).toFixed(1)
    }×`,
  );

  const project = await writeProject();
  const one = median([
    await runbookOn("web-1", project),
    await runbookOn("web-1", project),
    await runbookOn("web-1", project),
  ]);
  const ten = median([
    await runbookOn("web", project),
    await runbookOn("web", project),
    await runbookOn("web", project),
  ]);
  console.log(
    `\nThe ${STEPS}-step runbook through the CLI (whole command, start-up included; median of 3):`,
  );
  console.log(
    `  1 node: ${one.toFixed(0)} ms   10 nodes (parallel): ${
      ten.toFixed(0)
    } ms   10 nodes / 1 node = ${(ten / one).toFixed(2)}×`,
  );

  const a1 = await ansibleOn(1);
  const a10 = await ansibleOn(10);
  if (a1 === undefined || a10 === undefined) {
    console.log(
      "\nansible-playbook not installed (apt-get install ansible): skipped the comparison",
    );
  } else {
    console.log(`\nAnsible, same ${STEPS} tasks (gather_facts off, forks 10):`);
    console.log(`  1 node: ${a1.toFixed(0)} ms   10 nodes: ${a10.toFixed(0)} ms`);
    console.log(
      `  ratios: Ansible / ours = ${(a1 / one).toFixed(1)}× on 1 node, ${
        (a10 / ten).toFixed(1)
      }× on 10 nodes`,
    );
  }
} finally {
  await fleet.stop();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
