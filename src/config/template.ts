/**
 * The commented `protocol.yaml` that `deno task init` writes to start from.
 *
 * @example
 * ```ts
 * import { configTemplate } from "./template.ts";
 * configTemplate().startsWith("# Project configuration"); // true
 * ```
 * @module
 */

/** A commented starting configuration, written by `deno task init`. */
export function configTemplate(): string {
  return `# Project configuration for the runbooks (see README: "Configuration").
app:
  name: myapp
  # Git repository whose annotated tags are the releases (URL or path).
  repo: git@github.com:your-org/your-app.git
  # Holds releases/<version>, the \`current\` link and the release history.
  dir: /opt/myapp
  # Run in the active release directory. Start must detach (redirect output, run in background).
  start: docker compose up -d
  stop: docker compose down
  logs: docker compose logs --tail=200
  # Answers 200 when the app is healthy.
  health: http://127.0.0.1:8080/health
deployment:
  strategy: release   # immutable tags with an audit trail, never branches
  secrets: encrypted
vars: {}

# Segregation of duties (SOC 2 CC8.1): runbooks that declare \`approval:\` (deploy, rollback,
# config-change, key-rotation) run only under a change request another person approved
# (\`deno task identity:keygen\`, approvers.yaml, \`deno task request\`, \`deno task approve\`);
# without approvers.yaml they are refused. A team that does not approve changes says so here,
# and the reason is recorded in every run and shown to auditors as an exception:
# approval:
#   mode: "off"
#   reason: "single-person team until 2026-10"

# Nodes reached over SSH (the system OpenSSH client, one shared connection per node).
# Without nodes, runbooks run on this machine (\`local\`). \`deno task targets --check\` tests them.
# ssh:
#   user: deploy
#   identity: ~/.ssh/deploy_ed25519
#   host_keys: strict        # or accept-new to record a new node's key on first contact
# nodes:
#   web-1: { host: 10.0.0.11, groups: [web] }
#   web-2: { host: 10.0.0.12, groups: [web], vars: { weight: 2 } }

# The encrypted config repository (config:switch/init/save/refresh), one branch per environment.
# config_repo:
#   path: /opt/myapp-config        # its git checkout
#   remote: origin
#   environments: [production, staging, dev]
#   env_dir: /opt/myapp/shared     # where config:refresh writes the decrypted .env files
`;
}
