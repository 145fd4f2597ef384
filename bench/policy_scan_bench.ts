/**
 * The malicious-code scan against ripgrep: a generated tree of N files (default 50,000: PHP,
 * JS, text, with a few planted webshells, every PHP file calling `$pdo->exec(`, and a vendor/
 * that must be skipped), scanned four ways, interleaved round after round (warm cache):
 *
 * - `rg -l` with the check's patterns, globs and exclusions (the goal: ≤ 1.2× this);
 * - the collector's own script alone (`sh -c`), each way it can run on a node: with ripgrep
 *   (what a node with `rg` runs) and with `find | xargs grep` (a node without);
 * - the `pattern_scan` collector in this process (script + target + parsing; ripgrep here);
 * - the command a user types: `deno task security:audit --check malicious-code -p source=DIR`,
 *   i.e. `deno run -A src/cli/launch.ts …` (a fresh Deno process running the bundled CLI:
 *   start-up, policy load, scan, report).
 *
 * Prints the median and min–max of each, the ratios to `rg -l`, the load average before and
 * after, and whether the findings are exactly the planted files.
 *
 * Run: deno run -A bench/policy_scan_bench.ts [files] [rounds]
 * Needs ripgrep (test/system-packages.txt installs it).
 * @module
 */
import { join } from "node:path";
import { loadPolicy } from "../src/policy/mod.ts";
import {
  patternScan,
  PatternScanSpec,
  scanCommand,
} from "../src/policy/collectors/pattern_scan.ts";
import { LocalTarget } from "../src/targets/local.ts";

const FILES = Number(Deno.args[0] ?? 50_000);
const ROUNDS = Number(Deno.args[1] ?? 7);
const ROOT = new URL("../", import.meta.url).pathname;

const CLEAN = `<?php
namespace App\\Http;
class Controller${"{"}
  public function index($request) {
    $items = $this->repo->all();
    $pdo->exec("UPDATE t SET x = 1");
    return view('index', ['items' => $items, 'title' => 'Home']);
  }
}
`;

async function generate(dir: string): Promise<Set<string>> {
  const planted = new Set<string>();
  for (let i = 0; i < FILES; i++) {
    const sub = join(dir, i % 50 === 0 ? "vendor" : "src", `d${i % 500}`);
    if (i < 1000) await Deno.mkdir(sub, { recursive: true });
    const ext = ["php", "php", "js", "txt"][i % 4];
    let text = CLEAN.repeat(3);
    const file = join(sub, `f${i}.${ext}`);
    if (i % 5000 === 8 && ext === "php") {
      text += "eval(base64_decode($_POST['x']));\nsystem($_GET['c']);\n";
      if (!sub.includes("/vendor/")) planted.add(file);
    }
    await Deno.writeTextFile(file, text);
  }
  return planted;
}

async function run(cmd: string, args: string[], env?: Record<string, string>): Promise<string> {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  return new TextDecoder().decode(out.stdout);
}

const loadavg = async () => (await Deno.readTextFile("/proc/loadavg")).split(" ", 3).join(" ");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = await Deno.makeTempDir({ prefix: "policy-scan-bench-" });
try {
  console.log(`generating ${FILES} files in ${dir} ...`);
  const planted = await generate(dir);
  const policy = await loadPolicy("security-audit", ROOT);
  const check = policy.checks.find((c) => c.id === "malicious-code")!;
  const spec = PatternScanSpec.parse({ ...check.collect, paths: [dir] });
  const ctx = { target: new LocalTarget(), stateDir: dir };
  const rgArgs = [
    "-l",
    "--no-ignore",
    "--hidden",
    ...spec.include.flatMap((g) => ["-g", g]),
    ...spec.exclude_dirs.flatMap((d) => ["-g", `!${d}/`]),
    ...spec.patterns.flatMap((p) => ["-e", p.regex]),
    dir,
  ];
  const stateDir = join(dir, "..", `${dir.split("/").pop()}-state`);
  const tiny = join(stateDir, "tiny");
  await Deno.mkdir(join(tiny, "src"), { recursive: true });
  await Deno.writeTextFile(join(tiny, "src", "index.php"), CLEAN);
  const cliArgs = [
    "run",
    "-A",
    join(ROOT, "src/cli/launch.ts"),
    "security:audit",
    "--check",
    "malicious-code",
    "-p",
    `source=${dir}`,
    "--format",
    "json",
    "--state-dir",
    stateDir,
  ];
  const ways: Record<string, () => Promise<unknown>> = {
    "rg -l": () => run("rg", rgArgs),
    "script (rg)": () => run("sh", ["-c", scanCommand(spec, "rg")], { LC_ALL: "C" }),
    "script (grep)": () => run("sh", ["-c", scanCommand(spec, "grep")], { LC_ALL: "C" }),
    "collector": () => patternScan(spec, ctx),
    "command (CLI)": () => run(Deno.execPath(), cliArgs),
    // What the command costs besides the scan: the same command over a one-file tree.
    "command, 1 file": () =>
      run(Deno.execPath(), cliArgs.map((a) => a === `source=${dir}` ? `source=${tiny}` : a)),
  };

  const facts = await patternScan(spec, ctx);
  const found = new Set((facts.items as { file: string }[]).map((i) => i.file));
  const same = found.size === planted.size && [...found].every((f) => planted.has(f));
  console.log(`collector: ${facts.count} hits in ${found.size} files; planted ${planted.size}`);
  console.log(`findings are exactly the planted files: ${same}`);
  const lines = async (engine: "rg" | "grep") =>
    (await run("sh", ["-c", scanCommand(spec, engine)], { LC_ALL: "C" })).split("\n").sort()
      .join("\n");
  console.log(
    `ripgrep and grep print the same lines: ${await lines("rg") === await lines("grep")}`,
  );
  const report = JSON.parse(await run(Deno.execPath(), cliArgs));
  console.log(
    `command: ${report.results[0].findings.length} findings (${report.results[0].status})`,
  );

  const times: Record<string, number[]> = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
  for (const fn of Object.values(ways)) await fn(); // warm the page cache and the JIT
  console.log(`load before: ${await loadavg()}`);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, fn] of Object.entries(ways)) {
      const t0 = performance.now();
      await fn();
      times[name].push(performance.now() - t0);
    }
  }
  console.log(`load after:  ${await loadavg()}`);
  const rg = median(times["rg -l"]);
  for (const [name, xs] of Object.entries(times)) {
    const range = `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;
    console.log(
      `${name.padEnd(14)} median ${median(xs).toFixed(0).padStart(6)} ms  (${range} ms)  ` +
        `${(median(xs) / rg).toFixed(2)}× rg -l`,
    );
  }
  await Deno.remove(stateDir, { recursive: true }).catch(() => {});
} finally {
  await Deno.remove(dir, { recursive: true });
}
