/**
 * `compose_services`: the services of docker-compose files on the target, one item per service
 * with the settings that CIS Docker §5 cares about, and the file and line where the service is
 * written (so findings point at it, in SARIF too). No compose file at all: not applicable.
 *
 * @example
 * ```ts
 * import { parseCompose } from "./compose_services.ts";
 * parseCompose("docker-compose.yml", "services:\n  web:\n    privileged: true\n");
 * // [{ service: "web", privileged: true, line: 2, ... }]
 * ```
 * @module
 */
import { z } from "../../source/zod.ts";
import { parseSource } from "../../source/mod.ts";
import { shellQuote } from "../../shell/quote.ts";
import { defineCollector, execOnTarget, NotCollected } from "./types.ts";

/** The spec of a `compose_services` collector. */
export const ComposeServicesSpec = z.strictObject({
  kind: z.literal("compose_services"),
  files: z.array(z.string()).min(1).describe(
    "Compose files; those that do not exist are left out.",
  ),
});

type Service = Record<string, unknown>;

/** One service's risk-relevant settings, normalized (capabilities upper-case without CAP_). */
export function describeService(file: string, line: number, name: string, svc: Service) {
  const list = (v: unknown) => Array.isArray(v) ? v.map(String) : [];
  const volumes = Array.isArray(svc.volumes) ? svc.volumes : [];
  const sources = volumes.map((v) =>
    typeof v === "string" ? v.split(":")[0] : String((v as Service)?.source ?? "")
  );
  return {
    file,
    line,
    service: name,
    image: svc.image === undefined ? "" : String(svc.image),
    privileged: svc.privileged === true || svc.privileged === "true",
    user: svc.user === undefined ? "" : String(svc.user),
    cap_add: list(svc.cap_add).map((c) => c.toUpperCase().replace(/^CAP_/, "")),
    network_mode: String(svc.network_mode ?? ""),
    pid: String(svc.pid ?? ""),
    ipc: String(svc.ipc ?? ""),
    uts: String(svc.uts ?? ""),
    userns_mode: String(svc.userns_mode ?? ""),
    security_opt: list(svc.security_opt),
    devices: list(svc.devices),
    volume_sources: sources,
    docker_sock: sources.some((s) => s.endsWith("docker.sock")),
  };
}

/** Parses one compose file's text into service items. */
export function parseCompose(file: string, text: string): ReturnType<typeof describeService>[] {
  const source = parseSource(file, text);
  if (source.problems.length) {
    throw new NotCollected("error", `${file} is not valid YAML: ${source.problems[0].message}`);
  }
  const services = (source.data as { services?: Record<string, Service> } | null)?.services;
  if (!services || typeof services !== "object") return [];
  return Object.entries(services).map(([name, svc]) =>
    describeService(file, source.keyPositionOf(["services"], name).line, name, svc ?? {})
  );
}

/** Collects `{files, items, count}` over the compose files that exist. */
export const composeServices = defineCollector(ComposeServicesSpec, async (
  spec,
  ctx,
) => {
  const items = [];
  const files = [];
  for (const file of spec.files.filter(Boolean)) {
    const p = shellQuote(file);
    const result = await execOnTarget(ctx, `if [ -f ${p} ]; then cat -- ${p}; else exit 3; fi`);
    if (result.code === 3) continue;
    if (result.code !== 0) throw new NotCollected("error", `cannot read ${file}`);
    files.push(file);
    items.push(...parseCompose(file, result.stdout));
  }
  if (!files.length) {
    throw new NotCollected("not_applicable", `no compose file (${spec.files.join(", ")})`);
  }
  return { files, items, count: items.length };
});
