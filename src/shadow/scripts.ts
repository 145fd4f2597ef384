/**
 * The shell scripts of the shadow operations, built as data: each function returns the text of
 * one POSIX `sh` script and runs nothing (`execute.ts` runs them on a target). Every value that
 * comes from configuration or the command line is one quoted shell word.
 *
 * Layout on the node, under `<app.dir>/shadow/`:
 *
 * | file | what |
 * | --- | --- |
 * | `live.port` | the slot port the proxy hands new connections to (replaced with a rename) |
 * | `upstream.sh` | what the proxy runs per connection: `socat` to the port `live.port` names |
 * | `proxy.pid`, `proxy.log` | the front proxy |
 * | `standby` | the slot that was live before the last switch (rollback goes back to it) |
 * | `<slot>.version`, `.port`, `.pid`, `.log` | each slot (`blue`, `green`) |
 * | `<slot>.next.*` | a build being started, until it is healthy and replaces the slot's app |
 *
 * Releases live where SOP 1 puts them: `<app.dir>/releases/<version>`, and the release record
 * (`current`, `history`, `previous`, `deploys.log`) follows every switch, written by
 * `src/release/record.ts`, so `status`, `deploy:log` and `deploy:rollback` tell the same story.
 *
 * @example
 * ```ts
 * import { switchScript } from "./scripts.ts";
 * const script = switchScript("/opt/app", { port: 9101, version: "v1.2.0", standby: "blue" });
 * // printf '%s\n' 9101 > live.port.next && mv -f live.port.next live.port ...
 * ```
 * @module
 */
import { shellQuote as q } from "../shell/quote.ts";
import type { ShadowSettings } from "./settings.ts";
import { FETCH_SCRIPT, SWITCH_SCRIPT, withValues } from "../release/record.ts";

/** The two slots: one is live, the other holds the shadow (or the standby). */
export const SLOTS = ["blue", "green"] as const;
/** A slot name. */
export type Slot = (typeof SLOTS)[number];

/** The other slot. */
export function otherSlot(slot: Slot): Slot {
  return slot === "blue" ? "green" : "blue";
}

/** Where the shadow state of an app directory lives. */
export function shadowDir(appDir: string): string {
  return `${appDir.replace(/\/+$/, "")}/shadow`;
}

/** Exit code of a script that found `socat` missing on the node. */
export const NO_SOCAT = 3;

/**
 * Shell functions every script may use. `alive` treats a zombie as dead (an orphan whose
 * parent is a container's init can stay one). `answer` prints the status line of `GET path` on
 * host:port over a new connection (HTTP/1.0: no keep-alive), with socat, which the proxy needs
 * anyway, so nodes need no curl. `shut-none`: like curl, it does not half-close the connection
 * once the request is sent — a server that takes a half-close for a client gone (Deno's,
 * hyper's) would drop the answer of a slow health check, and a healthy app would look down.
 */
const PRELUDE = `alive() {
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null &&
    [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]
}
listening() { socat -u OPEN:/dev/null "TCP:$1:$2,connect-timeout=1" >/dev/null 2>&1; }
answer() {
  printf 'GET %s HTTP/1.0\\r\\nHost: %s:%s\\r\\nConnection: close\\r\\n\\r\\n' "$3" "$1" "$2" |
    socat -t 5 -T 5 - "TCP:$1:$2,connect-timeout=2,shut-none" 2>/dev/null | head -n 1 | tr -d '\\r'
}
healthy() { case "$(answer "$@")" in "HTTP/1."?" 200"*) return 0 ;; *) return 1 ;; esac; }`;

/** The address that reaches the proxy from the node itself. */
export function probeHost(settings: Pick<ShadowSettings, "listen">): string {
  return settings.listen === "0.0.0.0" ? "127.0.0.1" : settings.listen;
}

function header(settings: Pick<ShadowSettings, "appDir">): string {
  return `${PRELUDE}\napp=${q(settings.appDir)}\nd="$app/shadow"`;
}

/**
 * Prints the node's shadow state as `key=value` lines (see `state.ts`). With `health`, also
 * asks every running slot and the proxy for their health.
 */
export function stateScript(settings: ShadowSettings, health = false): string {
  const path = q(settings.healthPath);
  const live = `${q(probeHost(settings))} ${settings.livePort}`;
  return `${header(settings)}
echo "current=$(basename "$(readlink "$app/current" 2>/dev/null)" 2>/dev/null)"
if command -v socat >/dev/null 2>&1; then
  echo socat=yes
  if listening ${live}; then echo live_listening=yes; else echo live_listening=no; fi
else
  echo socat=no
fi
[ -d "$d" ] || { echo initialized=no; exit 0; }
cd "$d" || exit 1
echo initialized=yes
pid=$(cat proxy.pid 2>/dev/null)
echo "proxy_pid=$pid"
if alive "$pid"; then echo proxy=running; else echo proxy=stopped; fi
echo "live_port=$(cat live.port 2>/dev/null)"
echo "standby=$(cat standby 2>/dev/null)"
for s in ${SLOTS.join(" ")}; do
  port=$(cat "$s.port" 2>/dev/null)
  pid=$(cat "$s.pid" 2>/dev/null)
  echo "\${s}_version=$(cat "$s.version" 2>/dev/null)"
  echo "\${s}_port=$port"
  echo "\${s}_pid=$pid"
  if alive "$pid"; then
    echo "\${s}_running=yes"${
    health
      ? `\n    if healthy 127.0.0.1 "$port" ${path}; then h=yes; else h=no; fi\n` +
        `    echo "\${s}_healthy=$h"`
      : ""
  }
  else
    echo "\${s}_running=no"
  fi
done${
    health
      ? `\nif healthy ${live} ${path}; then echo live_healthy=yes; else echo live_healthy=no; fi`
      : ""
  }`;
}

/**
 * How long, in seconds, the proxy still carries a connection once one side has shut down its
 * sending half (socat's `-t`). socat's default, 0.5 s, cut every answer slower than that to a
 * client that half-closes after its request, as `nc -N` and many RPC clients do.
 */
export const HALF_CLOSE_WAIT_S = 60;

/**
 * What the proxy runs for each client connection: it reads `live.port` at that moment, so a
 * switch (a rename of that file) steers every connection opened after it, and none before. Its
 * stdio is a socket pair with the proxy: `shut-down` passes the end of the app's answer on
 * (without it the client saw that end only once the half-close wait ran out).
 */
export const UPSTREAM_SCRIPT = `#!/bin/sh
# Written by protocol shadow:init. One client connection of the front proxy: forward it to the
# slot that live.port names now. Connections opened before a switch stay where they were.
exec socat -t ${HALF_CLOSE_WAIT_S} STDIO,shut-down "TCP:127.0.0.1:$(cat live.port)"
`;

/** Checks for socat and writes the shadow directory and `upstream.sh` (idempotent). */
export function prepareScript(settings: ShadowSettings): string {
  return `${header(settings)}
command -v socat >/dev/null 2>&1 || {
  echo "socat is not installed on this node: the shadow proxy needs it (Debian: apt-get install socat)" >&2
  exit ${NO_SOCAT}
}
command -v setsid >/dev/null 2>&1 || { echo "setsid is missing on this node (Debian: util-linux)" >&2; exit 1; }
mkdir -p "$d" && cd "$d" || exit 1
printf '%s' ${q(UPSTREAM_SCRIPT)} > upstream.sh.next
chmod 755 upstream.sh.next && mv -f upstream.sh.next upstream.sh`;
}

/** The socat listen address of the proxy. */
export function proxyAddress(settings: Pick<ShadowSettings, "listen" | "livePort">): string {
  return `TCP-LISTEN:${settings.livePort},bind=${settings.listen},fork,reuseaddr,backlog=128`;
}

/**
 * Starts the front proxy in its own session (it outlives the SSH session and the step's process
 * group) and waits until it listens; fails with the end of its log when it cannot.
 */
export function startProxyScript(settings: ShadowSettings): string {
  const live = `${q(probeHost(settings))} ${settings.livePort}`;
  return `${header(settings)}
cd "$d" || exit 1
setsid nohup socat -t ${HALF_CLOSE_WAIT_S} ${
    q(proxyAddress(settings))
  } EXEC:./upstream.sh </dev/null >>proxy.log 2>&1 &
pid=$!
echo "$pid" > proxy.pid
i=0
until listening ${live}; do
  alive "$pid" || break
  i=$((i + 1)); [ "$i" -le 200 ] || break
  sleep 0.05
done
if ! alive "$pid" || ! listening ${live}; then
  echo "the proxy did not start on ${settings.listen}:${settings.livePort}: $(tail -n 3 proxy.log)" >&2
  kill "$pid" 2>/dev/null; rm -f proxy.pid
  exit 1
fi
echo "proxy (pid $pid) listens on ${settings.listen}:${settings.livePort}"`;
}

/**
 * The file prefix of a slot's release: the slot itself, or its `candidate` — a build started
 * next to the slot's standby, which only replaces it once healthy.
 */
export function slotFiles(slot: Slot, candidate = false): string {
  return candidate ? `${slot}.next` : slot;
}

/** Stops a slot's (or candidate's, `slotFiles`) app: its process group, TERM, then KILL after 10 s. */
export function stopSlotScript(settings: ShadowSettings, slot: string): string {
  return `${header(settings)}
cd "$d" 2>/dev/null || exit 0
pid=$(cat ${slot}.pid 2>/dev/null)
if alive "$pid"; then
  kill -TERM "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  i=0
  while alive "$pid" && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
  if alive "$pid"; then kill -KILL "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null; fi
  echo "stopped ${slot} (pid $pid)"
fi
rm -f ${slot}.pid`;
}

/**
 * Fetches a release tag into `<app.dir>/releases/<version>` with the release record's own
 * script (`src/release/record.ts`): the same mirror, manifest, verification before reuse and
 * refusal of moved tags as SOP 1, so SOP 1 and SOP 4 share releases.
 */
export function fetchReleaseScript(settings: ShadowSettings, version: string): string {
  return withValues(FETCH_SCRIPT, { appDir: settings.appDir, repo: settings.repo, version });
}

/**
 * Starts `version` in `slot` on the first free port of `shadow.ports` (skipping `exclude`),
 * detached in its own session with `$PORT` set; prints `port=N`.
 */
export function startSlotScript(
  settings: ShadowSettings,
  slot: Slot,
  version: string,
  exclude: number[],
  candidate = false,
): string {
  const [from, to] = settings.ports;
  const f = slotFiles(slot, candidate);
  return `${header(settings)}
version=${q(version)}
release="$app/releases/$version"
[ -d "$release" ] || { echo "releases/$version does not exist" >&2; exit 1; }
cd "$d" || exit 1
port=
p=${from}
while [ "$p" -le ${to} ]; do
  case " ${exclude.join(" ")} " in
    *" $p "*) ;;
    *) if ! listening 127.0.0.1 "$p"; then port=$p; break; fi ;;
  esac
  p=$((p + 1))
done
[ -n "$port" ] || { echo "no free port in shadow.ports ${from}-${to}" >&2; exit 1; }
printf '%s\\n' "$version" > ${f}.version
printf '%s\\n' "$port" > ${f}.port${
    candidate ? "" : `
# A start in the standby's slot replaces it: what runs there now is a shadow.
[ "$(cat standby 2>/dev/null)" != ${slot} ] || rm -f standby`
  }
printf '\\n== %s: %s on port %s ==\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$version" "$port" >> ${f}.log
cd "$release" || exit 1
PORT=$port PROTOCOL_SLOT=${slot} PROTOCOL_VERSION=$version \\
  setsid nohup sh -c ${q(settings.start)} </dev/null >>"$d/${f}.log" 2>&1 &
echo $! > "$d/${f}.pid"
echo "port=$port"`;
}

/**
 * A healthy candidate takes its slot's place: the slot's old app (the standby, or an older
 * shadow) is stopped only now, and the candidate's files become the slot's.
 */
export function adoptCandidateScript(settings: ShadowSettings, slot: Slot): string {
  const f = slotFiles(slot, true);
  return `${stopSlotScript(settings, slot)}
for ext in version port pid log; do mv -f "${f}.$ext" "${slot}.$ext"; done
# What runs in the standby's slot now is a shadow.
[ "$(cat standby 2>/dev/null)" != ${slot} ] || rm -f standby
echo "${slot} now runs $(cat ${slot}.version) on :$(cat ${slot}.port)"`;
}

/**
 * Waits until GET health on host:port answers 200, for at most `seconds`. With `slot`, fails
 * as soon as that slot's app has exited, and shows the end of its log.
 */
export function waitHealthyScript(
  settings: ShadowSettings,
  o: { host: string; port: number; seconds: number; slot?: string },
): string {
  const target = `${q(o.host)} ${o.port} ${q(settings.healthPath)}`;
  // The end of this start's log, without the blank and header lines between starts.
  const log = o.slot ? `; grep -v -e '^$' -e '^== ' "$d/${o.slot}.log" | tail -n 3 >&2` : "";
  const exited = o.slot
    ? `  alive "$(cat "$d/${o.slot}.pid" 2>/dev/null)" || ` +
      `{ echo "the app in ${o.slot} exited before it was healthy" >&2${log}; exit 1; }\n`
    : "";
  return `${header(settings)}
deadline=$(( $(date +%s) + ${o.seconds} ))
while :; do
  last=$(answer ${target})
  case "$last" in "HTTP/1."?" 200"*)
    echo "GET ${settings.healthPath} on port ${o.port}: $last"; exit 0 ;;
  esac
${exited}  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "GET ${settings.healthPath} on port ${o.port} did not answer 200 within ${o.seconds} s (last: \${last:-no answer})" >&2${log}
    exit 1
  fi
  sleep 0.2
done`;
}

/** Who switches, for the release record (`deploys.log`). */
export interface SwitchRecord {
  kind: "shadow-start" | "shadow-rollback";
  operator: string;
  run: string;
}

/**
 * The switch: `live.port` is replaced with a rename, so the proxy's next connection reads the
 * new port whole (never a torn or empty file); then the standby mark; then, when the release
 * changes, `current`, `history`, `previous` and `deploys.log` through the release record's own
 * switch script, so `status`, `deploy:log` and a later `deploy:rollback` tell the same story.
 */
export function switchScript(
  appDir: string,
  o: { port: number; version: string; standby?: Slot; record?: SwitchRecord },
): string {
  const standby = o.standby
    ? `printf '%s\\n' ${o.standby} > standby.next && mv -f standby.next standby`
    : "rm -f standby";
  const record = withValues(SWITCH_SCRIPT, {
    appDir,
    version: o.version,
    kind: o.record?.kind ?? "shadow-start",
    operator: o.record?.operator ?? "",
    run: o.record?.run ?? "",
  });
  return `set -e
app=${q(appDir)}
version=${q(o.version)}
cd "$app/shadow"
printf '%s\\n' ${o.port} > live.port.next && mv -f live.port.next live.port
${standby}
cd "$app"
if [ -d "releases/$version" ] && [ "$(basename "$(readlink current 2>/dev/null)" 2>/dev/null)" != "$version" ]; then
${record}
fi
echo "live -> port ${o.port} ($version)"`;
}

/**
 * Stops an app that SOP 1 started on the live port (`app.stop` in `current`), then waits
 * until the port is free, so `shadow:init` can put the proxy there.
 */
export function stopPlainAppScript(settings: ShadowSettings): string {
  const live = `${q(probeHost(settings))} ${settings.livePort}`;
  return `${header(settings)}
cd "$app/current" || exit 1
sh -c ${q(settings.stop)} || exit 1
i=0
while listening ${live}; do
  i=$((i + 1))
  [ "$i" -le 200 ] || { echo "port ${settings.livePort} is still in use after app.stop" >&2; exit 1; }
  sleep 0.05
done`;
}
