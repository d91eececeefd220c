import { CommandError, nonEmpty, parseCommandLine, ProgressReporter, runCli, usage, UsageError, type CliIo, type CliOption, type CliSpec } from '../../../scripts/cli';

/** What a stream received, and whether it claims to be a terminal. */
function fakeStream(isTTY: boolean) {
  const chunks: string[] = [];
  return { isTTY, chunks, write: (text: string) => chunks.push(text), text: () => chunks.join('') };
}

/** A clock the test moves by hand. */
function fakeClock() {
  let now = 1_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('ProgressReporter without a terminal', () => {
  it('writes a plain line at the start, at each 10 % step, and one at the end with the elapsed time', () => {
    const stream = fakeStream(false);
    const clock = fakeClock();
    const phase = new ProgressReporter({ name: 'eval', stream, now: clock.now }).phase('shared stack', 40);
    for (let i = 0; i < 40; i++) {
      clock.advance(100);
      phase.tick();
    }
    phase.end();
    const lines = stream.text().split('\n').filter(Boolean);
    expect(lines[0]).toBe('[eval] shared stack: 0/40 (0%), 0.0 s');
    expect(lines[1]).toBe('[eval] shared stack: 4/40 (10%), 0.4 s');
    expect(lines.at(-2)).toBe('[eval] shared stack: 36/40 (90%), 3.6 s');
    expect(lines.at(-1)).toBe('[eval] shared stack: 40/40 (100%) in 4.0 s');
    // Start, 10 % … 90 %, end: not one line per item.
    expect(lines).toHaveLength(11);
    expect(stream.text()).not.toMatch(/\r|\x1b/);
  });

  it('adds a line every few seconds when a step takes long, and says where it stopped', () => {
    const stream = fakeStream(false);
    const clock = fakeClock();
    const phase = new ProgressReporter({ name: 'bench', stream, now: clock.now, everyMs: 5_000 }).phase('throughput', 1_000);
    clock.advance(2_000);
    phase.tick(); // 0.1 %, 2 s after the last line: nothing
    clock.advance(3_000);
    phase.tick(); // 5 s after the last line: a line
    phase.end();
    expect(stream.text().split('\n').filter(Boolean)).toEqual([
      '[bench] throughput: 0/1000 (0%), 0.0 s',
      '[bench] throughput: 2/1000 (0%), 5.0 s',
      '[bench] throughput: stopped at 2/1000 (0%) after 5.0 s',
    ]);
  });
});

describe('ProgressReporter on a terminal', () => {
  it('redraws one line in place and ends it with a newline', () => {
    const stream = fakeStream(true);
    const clock = fakeClock();
    const phase = new ProgressReporter({ name: 'bench', stream, now: clock.now, redrawMs: 100 }).phase('paths', 3);
    clock.advance(150);
    phase.tick();
    clock.advance(10);
    phase.tick(); // within 100 ms of the last redraw: not drawn
    clock.advance(10);
    phase.tick(); // the last item is always drawn
    phase.end();
    expect(stream.chunks).toEqual([
      '\r\x1b[K[bench] paths: 0/3 (0%), 0.0 s',
      '\r\x1b[K[bench] paths: 1/3 (33%), 0.1 s',
      '\r\x1b[K[bench] paths: 3/3 (100%), 0.2 s',
      '\r\x1b[K[bench] paths: 3/3 (100%) in 0.2 s\n',
    ]);
    expect(stream.text().split('\n')).toHaveLength(2);
  });

  it('clears the updating line for other output and draws it again after; without one, only writes', () => {
    const stream = fakeStream(true);
    const reporter = new ProgressReporter({ name: 'bench', stream, now: fakeClock().now });
    reporter.above(() => stream.write('before\n'));
    const phase = reporter.phase('cycles', 2);
    reporter.above(() => stream.write('request lost\n'));
    phase.end();
    reporter.above(() => stream.write('after\n'));
    expect(stream.chunks).toEqual([
      'before\n',
      '\r\x1b[K[bench] cycles: 0/2 (0%), 0.0 s',
      '\r\x1b[K',
      'request lost\n',
      '[bench] cycles: 0/2 (0%), 0.0 s',
      '\r\x1b[K[bench] cycles: stopped at 0/2 (0%) after 0.0 s\n',
      'after\n',
    ]);
  });
});

describe('ProgressReporter with quiet', () => {
  it.each([true, false])('writes nothing (terminal: %s)', (isTTY) => {
    const stream = fakeStream(isTTY);
    const phase = new ProgressReporter({ name: 'eval', stream, quiet: true }).phase('shared stack', 5);
    for (let i = 0; i < 5; i++) phase.tick();
    phase.end();
    expect(stream.chunks).toEqual([]);
  });
});

const SPEC = {
  command: 'npm run thing --',
  summary: 'Does the thing.',
  options: {
    count: { type: 'string', value: 'n', default: '3', description: 'how many' },
    name: { type: 'string', description: 'who' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress' },
  },
  examples: ['npm run thing -- --count 5'],
  exitStatus: { 1: 'the thing failed' },
} as const satisfies CliSpec<Record<string, CliOption>>;

function io(argv: string[]) {
  const stdout = fakeStream(false);
  const stderr = fakeStream(false);
  const exits: number[] = [];
  const cli: CliIo = { argv, stdout, stderr, exit: (code) => exits.push(code) };
  return { cli, stdout, stderr, exits };
}

describe('parseCommandLine and usage', () => {
  it('gives defaults, booleans as false, and the values given', () => {
    expect(parseCommandLine(SPEC, [])).toEqual({ help: false, values: { count: '3', quiet: false } });
    expect(parseCommandLine(SPEC, ['--count', '7', '-q', '--name=ann'])).toEqual({ help: false, values: { count: '7', quiet: true, name: 'ann' } });
    expect(parseCommandLine(SPEC, ['-h'])).toEqual({ help: true });
  });

  it.each([
    [['--bogus'], "Unknown option '--bogus'"],
    [['--count'], "Option '--count <value>' argument missing"],
    [['extra'], "Unexpected argument 'extra'"],
  ])('refuses %j with one sentence', (argv, message) => {
    expect(() => parseCommandLine(SPEC, argv)).toThrow(new UsageError(message));
  });

  it('lists every option with its default, the examples and the exit statuses', () => {
    const text = usage(SPEC);
    expect(text).toContain('Usage: npm run thing -- [options]');
    expect(text).toMatch(/--count <n>\s+how many \(default: 3\)/);
    expect(text).toMatch(/--name <value>\s+who\n/);
    expect(text).toMatch(/-q, --quiet\s+no progress/);
    expect(text).toMatch(/-h, --help\s+show this help and exit/);
    expect(text).toContain('Example:\n  npm run thing -- --count 5');
    expect(text).toMatch(/0 {2}done\n {2}1 {2}the thing failed\n {2}2 {2}bad command line/);
  });
});

describe('exclusive options and non-empty values', () => {
  const EXCLUSIVE = {
    command: 'npm run load --',
    summary: 'Loads.',
    options: {
      stack: { type: 'string', default: 'Warden', description: 'the stack' },
      table: { type: 'string', description: 'the table' },
      bucket: { type: 'string', description: 'the bucket' },
      force: { type: 'boolean', description: 'overwrite' },
    },
    exclusive: [['stack', 'table'], ['table', 'bucket', 'force']],
    examples: ['npm run load -- --table t'],
  } as const satisfies CliSpec<Record<string, CliOption>>;

  it('refuses two options of a group as typed, while a default alone does not count', () => {
    expect(() => parseCommandLine(EXCLUSIVE, ['--stack', 'Warden', '--table', 't'])).toThrow(new UsageError('give --stack or --table, not both'));
    expect(() => parseCommandLine(EXCLUSIVE, ['--bucket', 'b', '--table', 't'])).toThrow(new UsageError('give only one of --table, --bucket, --force'));
    expect(parseCommandLine(EXCLUSIVE, ['--table', 't'])).toEqual({ help: false, values: { stack: 'Warden', table: 't', force: false } });
    expect(parseCommandLine(EXCLUSIVE, ['--stack', 'Other', '--bucket', 'b'])).toEqual({ help: false, values: { stack: 'Other', bucket: 'b', force: false } });
  });

  it('answers a pair given together with one line and the usage on stderr, exit 2, without running', async () => {
    const run = io(['--table', 't', '--stack', 'Warden']);
    let ran = false;
    await runCli(EXCLUSIVE, () => void (ran = true), { io: run.cli });
    expect(run.exits).toEqual([2]);
    expect(run.stderr.text()).toBe(`npm run load: give --stack or --table, not both\n\n${usage(EXCLUSIVE)}`);
    expect(ran).toBe(false);
  });

  it('nonEmpty passes a name or its absence through and refuses a blank one', () => {
    expect(nonEmpty('region', 'eu-west-1')).toBe('eu-west-1');
    expect(nonEmpty('region', undefined)).toBeUndefined();
    expect(() => nonEmpty('region', '')).toThrow(new UsageError('--region needs a non-empty value'));
    expect(() => nonEmpty('region', '  ')).toThrow(new UsageError('--region needs a non-empty value'));
  });
});

describe('runCli', () => {
  it('answers --help with the usage on stdout and exit 0, without running', async () => {
    const run = io(['--help']);
    let ran = false;
    await runCli(SPEC, () => void (ran = true), { io: run.cli });
    expect(run.exits).toEqual([0]);
    expect(run.stdout.text()).toBe(usage(SPEC));
    expect(run.stderr.text()).toBe('');
    expect(ran).toBe(false);
  });

  it('answers a bad value found by main with one line and the usage on stderr, exit 2', async () => {
    const run = io(['--count', 'many']);
    await runCli(SPEC, (values) => {
      throw new UsageError(`--count must be a positive integer, got ${JSON.stringify(values.count)}`);
    }, { io: run.cli });
    expect(run.exits).toEqual([2]);
    expect(run.stderr.text()).toBe(`npm run thing: --count must be a positive integer, got "many"\n\n${usage(SPEC)}`);
    expect(run.stdout.text()).toBe('');
  });

  it('answers a CommandError with its message alone on stderr, exit 1', async () => {
    const run = io([]);
    await runCli(SPEC, async () => {
      throw new CommandError('table t not found in eu-west-1');
    }, { io: run.cli, failureStatus: 3 });
    expect(run.exits).toEqual([1]);
    expect(run.stderr.text()).toBe('table t not found in eu-west-1\n');
    expect(run.stdout.text()).toBe('');
  });

  it("exits with main's status, and with the failure status and the stack on a crash", async () => {
    const done = io([]);
    await runCli(SPEC, () => 1, { io: done.cli });
    expect(done.exits).toEqual([1]);
    const crashed = io([]);
    await runCli(SPEC, async () => {
      throw new Error('emulator died');
    }, { io: crashed.cli, failureStatus: 3 });
    expect(crashed.exits).toEqual([3]);
    expect(crashed.stderr.text()).toMatch(/^Error: emulator died\n\s+at /);
  });
});
