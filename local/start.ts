import { connectorName, unconfiguredActions, type ConnectorsConfig } from '../lambdas/shared/connectors';
import { shippedPolicies } from '../lambdas/shared/policy';
import { AUDITOR_ROLE, knownRoles } from '../lambdas/shared/policy/roles';
import { ACTIONS } from '../lambdas/shared/schemas/actions';
import { DataDirInUse } from './data-dir-lock';
import { DataDirNotPrivate } from './files';
import { InvalidLocalSettings, PortInUse, readLocalSetup, readSettings, startLocalServer } from './server';
import { InvalidLocalConfig, type StartedStandIn } from './stand-ins';

/**
 * `npm start`: the whole Warden backend on 127.0.0.1 — emulators, the local Step Functions
 * running the repository's ASL file, the HTTP API — with ready dev tokens printed.
 */

interface DevUser {
  sub: string;
  roles: string[];
  what: string;
}

const DEV_USERS: readonly DevUser[] = [
  { sub: 'requester-1', roles: ['support-agent'], what: 'requester (support-agent)' },
  { sub: 'approver-procurement', roles: ['procurement-manager'], what: 'procurement-manager (POs 5,000–49,999.99)' },
  { sub: 'approver-finance', roles: ['finance-director'], what: 'finance-director (POs ≥ 50,000, refunds ≥ 1,000)' },
  { sub: 'approver-accounts', roles: ['account-manager'], what: 'account-manager (multi-step tier upgrades)' },
  { sub: 'approver-support', roles: ['support-lead'], what: 'support-lead (refunds < 1,000)' },
  { sub: 'auditor-1', roles: ['auditor'], what: 'auditor (reads every request)' },
];

/**
 * A dev user for each role the policies name that no user above holds (a catalog action's own
 * approver, say), described by the tiers it approves: adding an action adds its tokens.
 */
function devUsersForOtherRoles(): DevUser[] {
  const held = new Set(DEV_USERS.flatMap((user) => user.roles));
  return knownRoles()
    .filter((role) => !held.has(role) && role !== AUDITOR_ROLE)
    .map((role) => {
      const approves = ACTIONS.flatMap((action) => shippedPolicies()[action].tiers.filter((tier) => tier.approverRoles.includes(role)).map((tier) => `${action} (tier ${tier.name})`));
      return { sub: role, roles: [role], what: `${role} (${approves.length > 0 ? `approves ${approves.join(', ')}` : 'requests what its policies permit'})` };
    });
}

async function main(): Promise<void> {
  // Everything this process writes (the emulators' stores, the journal, the vault) is the owner's only.
  process.umask(0o077);
  const settings = readSettings();
  const { connectors, local, secretsFilled } = readLocalSetup();
  const started = Date.now();
  const server = await startLocalServer({
    port: settings.port,
    dataDir: settings.dataDir,
    approvalTimeoutSeconds: settings.approvalTimeoutSeconds,
    modelProvider: settings.modelProvider,
    connectors,
    local,
    // The handlers on a thread of their own: the API, the engine and the emulators keep this one.
    functions: 'worker',
    accessLog: (entry) => console.log(JSON.stringify({ level: 'INFO', message: 'http', ...entry })),
  });
  // Before the banner: the API already answers, so a stop may come at any moment from now on.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the local stack…`);
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('could not stop cleanly:', error instanceof Error ? error.message : error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const lines = [
    '',
    `Warden local stack ready in ${Date.now() - started} ms: ${server.url}`,
    `  data directory: ${server.dataDir}`,
    `  approval timeout: ${settings.approvalTimeoutSeconds} s, model provider: ${settings.modelProvider}`,
    `  connectors (cdk.json warden.connectors, wardenLocal.connectors over it): ${connectorsLine(server.stack.connectors)}`,
    `  stand-ins (cdk.json wardenLocal.standIns): ${standInsLine(server.standIns)}`,
    ...(secretsFilled.length > 0 ? [`  signing secrets set to a random value for this run: ${secretsFilled.join(', ')}`] : []),
    `  executions resumed from the last run: ${server.stack.resumed}`,
    '',
    `More dev tokens (1 h): GET /local/dev-token?sub=NAME&roles=ROLE1,ROLE2 with roles from ${knownRoles().join(', ')}.`,
    '',
    'Dev tokens (1 h):',
  ];
  for (const user of [...DEV_USERS, ...devUsersForOtherRoles()]) {
    lines.push(`  ${user.what}`, `    export TOKEN_${user.sub.toUpperCase().replace(/-/g, '_')}=${await server.mintToken(user.sub, user.roles)}`);
  }
  lines.push('', 'Ctrl-C stops the stack; pending approvals survive a restart on the same data directory.', '');
  console.log(lines.join('\n'));
}

/** The connectors that are not builtin, by name (`<action> effect http`): never a URL or a secret. */
function connectorsLine(connectors: ConnectorsConfig): string {
  const configured = Object.entries(connectors).flatMap(([action, pair]) =>
    (['facts', 'effect'] as const).filter((kind) => pair[kind].type !== 'builtin').map((kind) => connectorName(action, kind, pair[kind])),
  );
  const unconfigured = unconfiguredActions(connectors);
  const line = configured.length > 0 ? `${configured.join(', ')}; builtin for the rest` : 'builtin for every action';
  return unconfigured.length > 0 ? `${line}; not configured: ${unconfigured.join(', ')} (no builtin: its requests fail connector_failed)` : line;
}

/** Each stand-in's name, URL and module: never its secret. */
function standInsLine(standIns: readonly StartedStandIn[]): string {
  return standIns.length > 0 ? standIns.map((s) => `${s.name} ${s.url} (${s.module})`).join(', ') : 'none';
}

main().catch((error: unknown) => {
  // A settings or start-up problem is said in one line; anything else with its stack.
  const known =
    error instanceof InvalidLocalSettings ||
    error instanceof DataDirInUse ||
    error instanceof DataDirNotPrivate ||
    error instanceof PortInUse ||
    error instanceof InvalidLocalConfig ||
    (error instanceof Error && error.message.startsWith('WARDEN_'));
  console.error(known ? (error as Error).message : error);
  process.exit(1);
});
