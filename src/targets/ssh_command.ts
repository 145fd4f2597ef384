/**
 * OpenSSH command lines and the text streamed into a node's remote shell. Pure: builds argv
 * arrays and scripts, runs nothing — so every option and every quoting rule is tested as data.
 *
 * A node gets one connection whose own session is a long-lived remote `sh` and which is also
 * the master (`ControlMaster`, socket in a private directory) for any other channel. The
 * session's first block (the hello) defines a function in that shell; each step is then one
 * short call of it, which runs the step in a process group of its own (so a stop can kill the
 * group), with stdin from /dev/null (so it cannot eat the next step), and prints a random
 * marker that carries its exit code on stdout and ends its stderr.
 *
 * @example
 * ```ts
 * import { shellArgv, sshDestination } from "./ssh_command.ts";
 * const node = { name: "web-1", host: "10.0.0.1", user: "deploy", port: 22 };
 * sshDestination(node); // "deploy@10.0.0.1"
 * shellArgv(node, { hostKeys: "strict", connectTimeout: 10 }, "/tmp/ctl");
 * ```
 * @module
 */
import { shellQuote } from "../shell/quote.ts";

/** Where and as whom to connect. */
export interface SshEndpoint {
  name: string;
  host: string;
  port?: number;
  user?: string;
  identity?: string;
}

/** Connection settings shared by every node. */
export interface SshSettings {
  hostKeys: "strict" | "accept-new";
  knownHosts?: string;
  connectTimeout: number;
}

/** `user@host`, or `host` when the client's default user applies. */
export function sshDestination(node: SshEndpoint): string {
  return node.user ? `${node.user}@${node.host}` : node.host;
}

/** The control socket of a node: short, so it fits the 104-byte socket path limit. */
export function controlPath(controlDir: string, node: SshEndpoint): string {
  return `${controlDir}/${node.name.slice(0, 40)}.sock`;
}

/** Where the master connection writes its own messages (`-E`), read when it fails to start. */
export function masterLogPath(controlDir: string, node: SshEndpoint): string {
  return `${controlDir}/${node.name.slice(0, 40)}.log`;
}

/** Options every ssh invocation for `node` carries: batch mode, timeouts, host keys, port, key. */
export function commonOptions(node: SshEndpoint, settings: SshSettings): string[] {
  const options = [
    "-o",
    "BatchMode=yes",
    "-o",
    `ConnectTimeout=${settings.connectTimeout}`,
    "-o",
    `StrictHostKeyChecking=${settings.hostKeys === "strict" ? "yes" : "accept-new"}`,
    "-o",
    "ServerAliveInterval=15",
    "-o",
    "ServerAliveCountMax=3",
    "-o",
    "LogLevel=ERROR",
  ];
  if (settings.knownHosts) options.push("-o", `UserKnownHostsFile=${settings.knownHosts}`);
  if (node.port) options.push("-p", String(node.port));
  if (node.identity) options.push("-i", node.identity, "-o", "IdentitiesOnly=yes");
  return options;
}

/**
 * The node's one connection: the remote shell *is* the master connection's own session
 * (`ControlMaster=yes` with a command, `ControlPersist=no`), so the steps' bytes pass through one
 * local ssh process instead of a client relaying to a detached master, and one process start per
 * node instead of three (master, shell, `-O exit`). Other channels (a stop's kill, a step with
 * stdin) ride its control socket while it runs; it ends when the shell does. Its own messages go
 * to {@link masterLogPath} (`-E`), keeping the shell's stderr the steps' alone.
 */
export function shellArgv(
  node: SshEndpoint,
  settings: SshSettings,
  controlDir: string,
): string[] {
  return [
    "ssh",
    ...commonOptions(node, settings),
    ...controlSocket(node, controlDir, "yes"),
    "-o",
    "ControlPersist=no",
    "-E",
    masterLogPath(controlDir, node),
    sshDestination(node),
    REMOTE_SHELL,
  ];
}

/**
 * Runs `remoteCommand` over the node's connection (its control socket); `ControlMaster=no`
 * connects on its own when the socket is gone. `remoteCommand` is one string the remote shell
 * parses once: build it from quoted words.
 */
export function clientArgv(
  node: SshEndpoint,
  settings: SshSettings,
  controlDir: string,
  remoteCommand: string,
): string[] {
  return [
    "ssh",
    ...commonOptions(node, settings),
    ...controlSocket(node, controlDir, "no"),
    sshDestination(node),
    remoteCommand,
  ];
}

// The node's control socket: served by the shell's ssh (`yes`), used by every other (`no`).
function controlSocket(node: SshEndpoint, controlDir: string, master: "yes" | "no"): string[] {
  return ["-o", `ControlMaster=${master}`, "-o", `ControlPath=${controlPath(controlDir, node)}`];
}

/**
 * The long-lived shell steps are streamed into: bash when the machine has it (without rc files),
 * because bash keeps job control without a terminal (`set -m`), so each step can be started in a
 * process group of its own by the shell's own fork — one fork and one exec a step. Elsewhere
 * `/bin/sh`, whose steps get their group from `setsid` (an exec more). See {@link launchStep}.
 */
export const SHELL_CHOICE =
  "if command -v bash >/dev/null 2>&1; then unset BASH_ENV ENV; exec bash --norc --noprofile; fi; " +
  "exec /bin/sh";

/** The remote command that becomes the long-lived shell (the login shell parses it once). */
export const REMOTE_SHELL = `exec /bin/sh -c ${shellQuote(SHELL_CHOICE)}`;

/**
 * Turns job control on where the shell has it and sets `__protocol_jobs` to `jobs` (each
 * background command gets its own process group) or `setsid` (it does not).
 */
export const JOB_CONTROL_PROBE =
  "set -m 2>/dev/null; case $- in *m*) __protocol_jobs=jobs;; *) __protocol_jobs=setsid;; esac";

/** How a shell gives a step its own process group, as {@link JOB_CONTROL_PROBE} found out. */
export type StepGroup = "jobs" | "setsid";

/** Names an environment variable may have. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** What one step needs on the remote side. */
export interface RemoteStep {
  script: string;
  cwd?: string;
  env?: Record<string, string | number | boolean>;
}

/**
 * The script a step runs as on the node: its pid recorded (for a timeout's kill) with the
 * step's `tag`, if any (its number in the shell, which a stop checks: see {@link killScript}),
 * its directory and environment set with quoted words, then the step's own script, untouched.
 */
export function innerScript(step: RemoteStep, pidFile?: string, tag?: number): string {
  const pid = tag === undefined ? '"$$"' : `"$$ ${tag}"`;
  const lines = pidFile ? [`echo ${pid} > ${shellQuote(pidFile)}`] : [];
  if (step.cwd) lines.push(`cd -- ${shellQuote(step.cwd)} || exit 1`);
  for (const [name, value] of Object.entries(step.env ?? {})) {
    if (!ENV_NAME.test(name)) throw new Error(`not an environment variable name: "${name}"`);
    lines.push(`export ${name}=${shellQuote(String(value))}`);
  }
  lines.push(step.script);
  return lines.join("\n");
}

/** The pid file of the running step, in the session's private directory on the node. */
export const STEP_PID_FILE = "step.pid";

/**
 * Defines `__protocol_step SCRIPT` in a long-lived shell: starts SCRIPT with `/bin/sh -c` (by
 * path, so `setsid` walks no PATH) in a process group of its own (`launch` is `""` under job
 * control, `"setsid "` elsewhere), stdin from /dev/null (so it cannot eat the next step), its
 * stdout and stderr the relays' pipes (see {@link relayFunction}), waits for it, empties the pid
 * file (a stop between steps finds no pid; a redirection, not an `rm` exec), then prints the
 * exit code on a stdout marker line and ends stderr with a marker line, through the relays, after
 * the step's last byte. A step that leaves processes running in its process group (`cmd &`) says
 * `left` after its exit code: they may still print into the relays, which the next step replaces
 * first. So does a step after which a relay is gone (a step that killed the `cat`s): its markers
 * then go straight to the shell's own stdout and stderr, as a write into a pipe nobody reads
 * would end the shell. `wait`'s own stderr goes nowhere: bash reports a step killed by a signal there
 * ("Terminated"), which is not the step's output. `dirWord` is the shell's private directory,
 * a quoted shell word.
 *
 * @example
 * ```ts
 * import { stepFunction } from "./ssh_command.ts";
 * stepFunction("__m", "setsid ", '"$__protocol_dir"')[2];
 * // '  setsid /bin/sh -c "$1" </dev/null >&7 2>&8 7>&- 8>&- &'
 * ```
 */
export function stepFunction(
  marker: string,
  launch: "" | "setsid ",
  dirWord: string,
): string[] {
  return [
    "__protocol_step() {",
    '  [ -z "$__protocol_left" ] || __protocol_relays || exit 1',
    `  ${launch}/bin/sh -c "$1" </dev/null >&7 2>&8 7>&- 8>&- &`,
    "  __protocol_pid=$!",
    `  wait $__protocol_pid 2>/dev/null; __protocol_status=$?; : > ${dirWord}/${STEP_PID_FILE}`,
    "  kill -0 -$__protocol_pid 2>/dev/null && __protocol_left=' left'",
    "  __protocol_out=7 __protocol_err=8",
    "  for __protocol_p in $__protocol_relay; do",
    "    kill -0 $__protocol_p 2>/dev/null || __protocol_out=1 __protocol_err=2 __protocol_left=' left'",
    "  done",
    `  printf '\\n%s %s%s\\n' ${marker} "$__protocol_status" "$__protocol_left" >&$__protocol_out`,
    `  printf '\\n%s\\n' ${marker} >&$__protocol_err`,
    "}",
  ];
}

/**
 * Defines `__protocol_relays`: the pipes steps print into (fds 7 and 8 of the shell), each
 * copied to the shell's own stdout or stderr by a `cat` of its own, so that what a step leaves
 * running cannot print into a later step's output. The shell calls it once when it starts and
 * again before the step after one that left processes running: the old relays are stopped —
 * what those processes print from then on goes nowhere, as on a closed terminal — and a bare
 * marker line on each stream says where the next step's output begins (what came between is
 * the late output of the step before, attributed to neither). The relays are stopped only when
 * the next step has been sent, so after the controller has read the end markers they carried.
 * Costs two processes per shell, not per step: under bash 5.1 or later the relays are process
 * substitutions (a `cat` each, whose pids `$!` gives and `wait` takes); elsewhere (`/bin/sh`,
 * an older bash) FIFOs in the private directory, three execs more (`rm`, `mkfifo`, `rm`: 40 ms
 * on a first local step, measured). `dirWord` as in {@link stepFunction}.
 *
 * @example
 * ```ts
 * import { relayFunction } from "./ssh_command.ts";
 * relayFunction("__m", '"$__protocol_dir"')[0]; // "__protocol_relays() {"
 * ```
 */
export function relayFunction(marker: string, dirWord: string): string[] {
  const out = `${dirWord}/out`, err = `${dirWord}/err`;
  return [
    "__protocol_relays() {",
    '  if [ -n "$__protocol_relay" ]; then',
    `    exec 7>&- 8>&-; ${STOP_RELAYS}; wait $__protocol_relay 2>/dev/null`,
    `    printf '\n%s\n' ${marker}; printf '\n%s\n' ${marker} >&2`,
    "  fi",
    // eval: /bin/sh parses the whole function, and `>(` is no syntax of its own.
    `  case $BASH_VERSION in 5.[1-9]*|[6-9].*) eval ${shellQuote(PROCESS_RELAYS)};; *)`,
    `    rm -f ${out} ${err}; mkfifo -m 600 ${out} ${err} || return 1`,
    `    cat ${out} </dev/null & __protocol_relay=$!`,
    `    cat ${err} </dev/null >&2 & __protocol_relay="$__protocol_relay $!"`,
    `    exec 7>${out} 8>${err}; rm -f ${out} ${err};;`,
    "  esac",
    "  __protocol_left=",
    "}",
  ];
}

/** bash's relays: a process substitution each, the second not holding the first's pipe. */
const PROCESS_RELAYS = "exec 7> >(exec cat); __protocol_relay=$!; " +
  'exec 8> >(exec cat >&2 7>&-); __protocol_relay="$__protocol_relay $!"';

/** Stops the shell's relays (see {@link relayFunction}); sent before the shell exits. */
export const STOP_RELAYS = "kill $__protocol_relay 2>/dev/null";

/**
 * The frame of one step: a call of the `__protocol_step` the session's hello defined, its
 * script one single-quoted word, parsed once by the remote shell (no second round of word
 * splitting). A shell reads its input pipe one byte at a time (it must not read past the
 * command it runs), so a short frame is fewer `read` calls on the node: ~60 bytes and the
 * script's own, against ~300 when each frame spelled the launch, wait and markers out.
 * The script first writes its pid (`$$`: it leads its process group) to `pidFile`, where a
 * stop reads it (see {@link innerScript}); a step costs one fork and one exec on the node with
 * bash (two with `setsid`).
 *
 * @example
 * ```ts
 * import { frameStep } from "./ssh_command.ts";
 * frameStep({ script: "uptime" }, "/tmp/protocol.x/step.pid");
 * // "__protocol_step 'echo \"$$\" > '\\''/tmp/protocol.x/step.pid'\\''\nuptime'\n"
 * ```
 */
export function frameStep(step: RemoteStep, pidFile: string, tag?: number): string {
  return `__protocol_step ${shellQuote(innerScript(step, pidFile, tag))}\n`;
}

/**
 * What every long-lived shell runs first, a node's (see {@link frameHello}) as the run's local
 * one: turns job control on where the shell has it, defines `__protocol_step` (see
 * {@link stepFunction}) for the way it gives a step its process group, and `__protocol_relays`
 * (see {@link relayFunction}), and starts the relays. `dirWord` is the shell's private
 * directory, a quoted shell word.
 *
 * @example
 * ```ts
 * import { shellSetup } from "./ssh_command.ts";
 * shellSetup("__m", '"$__protocol_dir"').at(-1); // "__protocol_relays || exit 1"
 * ```
 */
export function shellSetup(marker: string, dirWord: string): string[] {
  return [
    JOB_CONTROL_PROBE,
    'if [ "$__protocol_jobs" = jobs ]; then',
    ...stepFunction(marker, "", dirWord),
    "else",
    ...stepFunction(marker, "setsid ", dirWord),
    "fi",
    ...relayFunction(marker, dirWord),
    "__protocol_relays || exit 1",
  ];
}

/**
 * The first block a session sends: makes its private remote directory, sets the shell up (see
 * {@link shellSetup}), and says `ready <jobs|setsid> <dir>`.
 */
export function frameHello(marker: string): string {
  return [
    `__protocol_dir=$(mktemp -d "\${TMPDIR:-/tmp}/protocol.XXXXXX") || exit 1`,
    ...shellSetup(marker, '"$__protocol_dir"'),
    `printf '\\n%s ready %s %s\\n' ${marker} "$__protocol_jobs" "$__protocol_dir"`,
    `printf '\\n%s\\n' ${marker} >&2`,
    "",
  ].join("\n");
}

/**
 * The remote command that signals a running step's process group: the pid in `pidFile`, only
 * while the line there still carries `tag` when one is given. A stop travels over a channel of
 * its own and may land after its step ended of itself and the next step wrote its pid there:
 * the tag keeps it from stopping that one (a lock's release, the failure path's first step).
 * No `--` before the group: dash's `kill` (a deploy user's login shell may be `/bin/sh`)
 * refuses it, and the step would never be stopped.
 *
 * @example
 * ```ts
 * import { killScript } from "./ssh_command.ts";
 * killScript("/tmp/p/step.pid", "TERM", 7);
 * // "read pid tag < '/tmp/p/step.pid' && [ \"$tag\" = 7 ] && kill -TERM -\"$pid\" 2>/dev/null; exit 0"
 * ```
 */
export function killScript(pidFile: string, signal: "TERM" | "KILL", tag?: number): string {
  const file = shellQuote(pidFile);
  const mine = tag === undefined ? '[ -n "$pid" ]' : `[ "$tag" = ${tag} ]`;
  return `read pid tag < ${file} && ${mine} && kill -${signal} -"$pid" 2>/dev/null; exit 0`;
}

/** A marker no step output can guess. */
export function newMarker(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `__protocol_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
