import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

/**
 * `npm start` and the bench's local-stack phases load no aws-cdk-lib. Loaded (outside jest, whose
 * NODE_ENV=test turns it off), aws-cdk-lib wraps every function of the process's `fs` and
 * `child_process` in its own profiling: the local journal's appends, s3rver's files and the rest
 * would all run through it. Checked in a fresh process without NODE_ENV, as `npm start` runs.
 */
it('local mode and the bench phases load no aws-cdk-lib, and leave fs as it is', () => {
  const script = `
    // What a phase of bench/run.ts loads (run.ts itself runs when required; its static imports are these).
    for (const entry of ['./local/server.ts', './bench/harness.ts', './bench/throughput.ts', './bench/paths.ts', './bench/cycle.ts', './bench/budgets.ts', './bench/stats.ts', './bench/text.ts', './scripts/cli.ts', './lib/function-names.ts', './lib/config.ts']) require(entry);
    const loaded = Object.keys(require.cache).filter((file) => file.includes('/node_modules/aws-cdk-lib/'));
    process.stdout.write(JSON.stringify({ loaded: loaded.length, openSync: require('node:fs').openSync.name, spawn: require('node:child_process').spawn.name }));
  `;
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_ENV;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: path.join(__dirname, '..', '..', '..'),
    env: { ...env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (run.status !== 0) throw new Error(run.stderr);
  expect(JSON.parse(run.stdout)).toEqual({ loaded: 0, openSync: 'openSync', spawn: 'spawn' });
});
