/**
 * Where a CPU profile's time went, by package: a V8 `.cpuprofile` (from `deno run --cpu-prof
 * --cpu-prof-dir=DIR …`) summed by self time into zod, yaml, dax (with its Deno shim), commander,
 * the tool's own modules, V8's parse/compile (`(program)`), GC and idle (waiting on I/O and
 * processes). Time in Deno's runtime or Node layer counts for the package that called it.
 *
 * Run: `deno run -A bench/profile_summary.ts DIR/CPU.*.cpuprofile`
 *
 * @module
 */

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The package or group a frame belongs to; undefined for runtime frames (counted upward). */
export function groupOf(url: string, fn: string): string | undefined {
  const packages: [RegExp, string][] = [
    [/zod@/, "zod"],
    [/yaml@/, "yaml"],
    [/dax-sh@|shim-deno@/, "dax (+ Deno shim)"],
    [/commander@/, "commander"],
    [/canonicalize@/, "canonicalize"],
    [/\/src\/audit\//, "src/audit"],
    [/\/src\//, "src (the tool, other)"],
  ];
  for (const [pattern, name] of packages) if (pattern.test(url)) return name;
  if (url.startsWith("ext:") || url.startsWith("node:") || fn.startsWith("op_")) return undefined;
  if (fn === "(idle)") return "idle (waiting on I/O, processes)";
  if (fn === "(program)") return "V8 parse/compile and native (program)";
  if (fn === "(garbage collector)") return "GC";
  return "runtime, not attributed";
}

const totals = new Map<string, number>();
for (const file of Deno.args) {
  const profile: Profile = JSON.parse(await Deno.readTextFile(file));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parents.set(child, node.id);
  }
  profile.samples.forEach((id, i) => {
    let group: string | undefined;
    for (let at: number | undefined = id; at !== undefined && !group; at = parents.get(at)) {
      const { url, functionName } = nodes.get(at)!.callFrame;
      group = groupOf(url, functionName);
    }
    group ??= "runtime, not attributed";
    totals.set(group, (totals.get(group) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
}
const all = [...totals.values()].reduce((a, b) => a + b, 0);
console.log("| where | ms | share |\n| --- | --- | --- |");
for (const [group, ms] of [...totals].sort((a, b) => b[1] - a[1])) {
  console.log(`| ${group} | ${ms.toFixed(0)} | ${(100 * ms / all).toFixed(0)}% |`);
}
