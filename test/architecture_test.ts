/**
 * The import graph of `src/` flows one way: every import points to a lower layer (or, among
 * the features, sideways without a cycle), and no file imports itself back through others.
 * Type imports count: they couple modules as much as value imports do.
 *
 * The layers, top to bottom (README "Design notes" draws the same list):
 *
 *     cli → runbook → features → targets → audit, config, state → shared leaves
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";

/** Rooms (top-level folders or files of `src/`) by layer, top first. */
const LAYERS: readonly (readonly string[])[] = [
  ["cli"],
  ["runbook"],
  [
    "policy",
    "secrets",
    "release",
    "shadow",
    "drill",
    "evidence",
    "schedule",
    "approval",
    "notify",
    "demo",
  ],
  ["targets"],
  ["audit", "config", "state"],
  ["shell", "source", "errors", "journal", "template", "proc"],
];

/**
 * Upward imports not yet turned around (issue 14). Each entry must still occur — remove it
 * when its import is gone — and nothing may be added.
 */
const KNOWN_UPWARD = new Set<string>([]);

/** Files in an import cycle not yet broken (issue 14); must shrink to nothing. */
const KNOWN_CYCLE = new Set<string>([]);

const SRC = normalize(join(dirname(new URL(import.meta.url).pathname), "..", "src"));

const IMPORT =
  /(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/gs;

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) files.push(...await sourceFiles(path));
    else if (entry.name.endsWith(".ts")) files.push(path);
  }
  return files;
}

/** Each file's relative imports, comments (and so JSDoc examples) left out. */
async function importGraph(): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  for (const file of await sourceFiles(SRC)) {
    const text = (await Deno.readTextFile(file))
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/^\s*\/\/.*$/gm, "");
    const targets = [...text.matchAll(IMPORT)]
      .map((m) => relative(SRC, normalize(join(dirname(file), m[1] ?? m[2]))))
      // A path out of src/ is a package's file (node_modules/), not a room.
      .filter((target) => !target.startsWith("../"));
    graph.set(relative(SRC, file), targets);
  }
  return graph;
}

function room(file: string): string {
  const [first, ...rest] = file.split("/");
  return rest.length ? first : first.replace(/\.ts$/, "");
}

function layerOf(file: string): number {
  const index = LAYERS.findIndex((rooms) => rooms.includes(room(file)));
  if (index < 0) throw new Error(`src/${file}: its room "${room(file)}" has no layer in LAYERS`);
  return index;
}

/** Strongly connected components with more than one member (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

Deno.test("architecture: every import points down the layers", async () => {
  const graph = await importGraph();
  const upward: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      if (room(file) !== room(target) && layerOf(target) < layerOf(file)) {
        upward.push(`${file} -> ${target}`);
      }
    }
  }
  const unknown = upward.filter((edge) => !KNOWN_UPWARD.has(edge));
  assert.deepEqual(unknown, [], "imports that run upward (move the shared piece down instead)");
  const gone = [...KNOWN_UPWARD].filter((edge) => !upward.includes(edge));
  assert.deepEqual(gone, [], "fixed upward imports still listed in KNOWN_UPWARD: remove them");
});

Deno.test("architecture: no room and no file is part of an import cycle", async () => {
  const graph = await importGraph();
  const rooms = new Map<string, string[]>();
  for (const [file, targets] of graph) {
    const out = rooms.get(room(file)) ?? [];
    out.push(...targets.map(room).filter((r) => r !== room(file)));
    rooms.set(room(file), out);
  }
  assert.deepEqual(cycles(rooms), [], "rooms that import each other in a cycle");
  const inCycle = cycles(graph).flat();
  const unknown = inCycle.filter((file) => !KNOWN_CYCLE.has(file));
  assert.deepEqual(unknown, [], "files in an import cycle");
  const gone = [...KNOWN_CYCLE].filter((file) => !inCycle.includes(file));
  assert.deepEqual(gone, [], "files no longer in a cycle still listed in KNOWN_CYCLE");
});

Deno.test("architecture: every room of src/ has a layer", async () => {
  const graph = await importGraph();
  for (const file of graph.keys()) layerOf(file);
});
