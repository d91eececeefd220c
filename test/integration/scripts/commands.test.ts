import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * The long-running npm scripts as a user types them (`npm run -s <name> -- …`): `--help` answers
 * with the usage, a bad command line with one line, the usage and exit 2, before any work
 * starts. The runs themselves are too long for a test, except `npm run cost`.
 */

const REPO = resolve(__dirname, '../../..');

function npmRun(script: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile('npm', ['run', '--silent', script, '--', ...args], { cwd: REPO, timeout: 90_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      done({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

const SCRIPTS = [
  { script: 'eval', options: ['--provider <name>', '--dataset <name>', '--only <prefix>', '-q, --quiet'], bad: ['--dataset', 'nope'], badLine: '--dataset must be one of development, held-out, got "nope"' },
  {
    script: 'bench',
    options: ['--cold-runs <n>', '--cycles <n>', '--requests <n>', '--warmup <n>', '--clients <n,n>', '--text-runs <n>', '--skip <sections>', '--out <file>', '--check', '-q, --quiet'],
    bad: ['--cycles', '0'],
    badLine: '--cycles must be a positive integer, got "0"',
  },
  { script: 'cost', options: ['--requests <n>', '--approval-rate <share>', '--model-mix <shares>', '--prices <file>'], bad: ['--requests', 'abc'], badLine: '--requests must be a number ≥ 0, got "abc"' },
  { script: 'demo', options: [], bad: ['now'], badLine: "Unexpected argument 'now'" },
  { script: 'seed', options: ['--stack <name>', '--table <name>', '--region <region>', '--dry-run'], bad: ['--region', ' '], badLine: '--region needs a non-empty value' },
];

describe.each(SCRIPTS)('npm run $script', ({ script, options, bad, badLine }) => {
  it.each([['--help'], ['-h']])('answers %s with its usage on stdout and exit 0', async (flag) => {
    const run = await npmRun(script, [flag]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Usage: npm run ${script} -- \\[options\\]\\n`));
    for (const option of [...options, '-h, --help']) expect(run.stdout).toContain(option);
    expect(run.stdout).toMatch(/\nExamples?:\n {2}npm run /);
    expect(run.stdout).toMatch(/\n {2}2 {2}bad command line/);
  }, 90_000);

  it('answers an unknown option with one line and the usage on stderr, exit 2', async () => {
    const run = await npmRun(script, ['--bogus']);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    const [first, blank, ...rest] = run.stderr.split('\n');
    expect(first).toBe(`npm run ${script}: Unknown option '--bogus'`);
    expect(blank).toBe('');
    expect(rest.join('\n')).toMatch(new RegExp(`^Usage: npm run ${script} -- `));
    expect(run.stderr).not.toMatch(/ERR_PARSE_ARGS|\n\s+at /);
  }, 90_000);

  it(`answers ${bad.join(' ')} with one line and the usage on stderr, exit 2`, async () => {
    const run = await npmRun(script, bad);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')[0]).toBe(`npm run ${script}: ${badLine}`);
    expect(run.stderr).toContain(`\n\nUsage: npm run ${script} -- `);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  }, 90_000);
});

it('npm run bench -- --help says what --check does to the exit status', async () => {
  const run = await npmRun('bench', ['--help']);
  expect(run.status).toBe(0);
  expect(run.stdout).toMatch(/\n +--check +exit 3 when a budget measured in this run is not met/);
  expect(run.stdout).toMatch(/\nExit status:\n(?: {2}\d .+\n)* {2}3 {2}with --check: a budget measured in this run is NOT MET/);
}, 90_000);

it('npm run cost -- --requests 1000 prints the cost table on stdout and nothing on stderr', async () => {
  const run = await npmRun('cost', ['--requests', '1000']);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const lines = run.stdout.split('\n');
  expect(lines[0]).toMatch(/^Warden — modelled monthly cost, [a-z0-9-]+, prices as of \d{4}-\d{2}-\d{2} \(cost\/prices\.json\)$/);
  expect(lines[1]).toMatch(/^usage per path from (bench\/results\.json|cost\/measured-defaults\.json) \(measured .+\); memory from the synthesized stack; models from cdk\.json$/);
  expect(run.stdout).toMatch(/\n1,000 requests: auto-approved [\d,.]+, rejected [\d,.]+, approved/);
  expect(run.stdout).toMatch(/\nservice +item +quantity +unit +unit price +monthly\n[- ]+\n/);
  expect(run.stdout).toMatch(/\n +total +\$\d+\.\d{2}\n/);
  expect(run.stdout).toMatch(/\nby service: .+\nper request: \$[\d.e-]+; per 1,000 requests: \$[\d.]+\n/);
  expect(lines.at(-2)).toMatch(/^storage \(DynamoDB and S3 GB-months\)/);
}, 90_000);
