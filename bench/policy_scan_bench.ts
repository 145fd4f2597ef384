/**
 * The policy pattern scan against ripgrep: a generated tree of 50,000 files (PHP, JS, text,
 * with a few planted webshells and a vendor/ that must be skipped), scanned by the
 * `pattern_scan` collector through the local target and by `rg` with the same patterns and
 * exclusions. Prints both times (best of 3) and the ratio; the target is ≤ 1.5× rg.
 *
 * Run: deno run -A bench/policy_scan_bench.ts [files]
 * ripgrep is not installed by CI; without it only the collector's time is printed.
 * @module
 */
import $ from "dax";
import { join } from "node:path";
import { loadPolicy } from "../src/policy/mod.ts";
import { patternScan, PatternScanSpec } from "../src/policy/collectors/pattern_scan.ts";
import { LocalTarget } from "../src/targets/local.ts";

const FILES = Number(Deno.args[0] ?? 50_000);
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

async function generate(dir: string): Promise<number> {
  let planted = 0;
  for (let i = 0; i < FILES; i++) {
    const sub = join(dir, i % 50 === 0 ? "vendor" : "src", `d${i % 500}`);
    if (i < 1000) await Deno.mkdir(sub, { recursive: true });
    const ext = ["php", "php", "js", "txt"][i % 4];
    let text = CLEAN.repeat(3);
    if (i % 5000 === 8 && ext === "php") {
      text += "eval(base64_decode($_POST['x']));\nsystem($_GET['c']);\n";
      planted++;
    }
    await Deno.writeTextFile(join(sub, `f${i}.${ext}`), text);
  }
  return planted;
}

async function best(fn: () => Promise<unknown>, runs = 3): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

const dir = await Deno.makeTempDir({ prefix: "policy-scan-bench-" });
try {
  console.log(`generating ${FILES} files in ${dir} ...`);
  const planted = await generate(dir);
  const policy = await loadPolicy("security-audit", ROOT);
  const check = policy.checks.find((c) => c.id === "malicious-code")!;
  const spec = PatternScanSpec.parse({ ...check.collect, paths: [dir] });
  const ctx = { target: new LocalTarget(), stateDir: dir };
  const facts = await patternScan(spec, ctx);
  const files = new Set((facts.items as { file: string }[]).map((i) => i.file));
  console.log(`collector: ${facts.count} hits in ${files.size} files (planted ${planted})`);
  const ours = await best(() => patternScan(spec, ctx));
  console.log(`pattern_scan collector: ${ours.toFixed(0)} ms (best of 3)`);
  if (!await $.commandExists("rg")) {
    console.log("rg not installed: skipping the comparison (apt-get install ripgrep)");
  } else {
    const args = [
      "-n",
      "--no-heading",
      "--no-ignore",
      "--hidden",
      ...spec.include.flatMap((g) => ["-g", g]),
      ...spec.exclude_dirs.flatMap((d) => ["-g", `!${d}/`]),
      ...spec.patterns.flatMap((p) => ["-e", p.regex]),
      dir,
    ];
    const rgOut = await $`rg ${args}`.noThrow().quiet().text();
    const rgFiles = new Set(rgOut.split("\n").filter(Boolean).map((l) => l.split(":")[0]));
    console.log(
      `rg: ${rgFiles.size} files with hits (same files: ${
        [...rgFiles].every((f) => files.has(f)) && rgFiles.size === files.size
      })`,
    );
    const rg = await best(async () => await $`rg ${args}`.noThrow().quiet());
    console.log(`rg: ${rg.toFixed(0)} ms (best of 3)`);
    console.log(`ratio collector/rg: ${(ours / rg).toFixed(2)}x (target <= 1.5x)`);
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
