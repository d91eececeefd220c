import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

/**
 * What every `npm run` script shares: its command line (node:util parseArgs, `--help`, usage
 * errors with exit 2) and a progress reporter on stderr, so stdout carries only the results.
 */

export interface CliOption {
  type: 'string' | 'boolean';
  short?: string;
  /** The value's name in the usage: `--requests <n>`. */
  value?: string;
  default?: string;
  description: string;
}

export interface CliSpec<O extends Record<string, CliOption>> {
  /** How a user types it: `npm run cost --`. */
  command: string;
  summary: string;
  options: O;
  examples: readonly string[];
  /** What exit statuses other than 0 (done) and 2 (bad command line) mean. */
  exitStatus?: Readonly<Record<number, string>>;
  /** Options of which a command line may give at most one: `[['stack', 'table']]`. */
  exclusive?: readonly (readonly (keyof O & string)[])[];
}

export type CliValues<O extends Record<string, CliOption>> = {
  [K in keyof O]: O[K] extends { type: 'boolean' } ? boolean : O[K] extends { default: string } ? string : string | undefined;
};

/** A bad command line: one line on stderr, the usage, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** An expected failure (a missing input file, say): its message alone on stderr, exit 1. */
export class CommandError extends Error {
  override name = 'CommandError';
}

const HELP: CliOption = { type: 'boolean', short: 'h', description: 'show this help and exit' };

export function usage<O extends Record<string, CliOption>>(spec: CliSpec<O>): string {
  const entries = Object.entries({ ...spec.options, help: HELP });
  const names = entries.map(([name, o]) => `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` <${o.value ?? 'value'}>` : ''}`);
  const width = Math.max(...names.map((n) => n.length));
  const lines = [`Usage: ${spec.command} [options]`, '', spec.summary, '', 'Options:'];
  entries.forEach(([, o], i) => {
    const fallback = o.default === undefined ? '' : ` (default: ${o.default === '' ? 'none' : o.default})`;
    lines.push(`  ${names[i].padEnd(width)}  ${o.description}${fallback}`);
  });
  lines.push('', spec.examples.length > 1 ? 'Examples:' : 'Example:', ...spec.examples.map((e) => `  ${e}`));
  const statuses = Object.entries({ ...spec.exitStatus, 0: 'done', 2: 'bad command line: unknown option or bad value' }).sort(([a], [b]) => Number(a) - Number(b));
  lines.push('', 'Exit status:', ...statuses.map(([code, meaning]) => `  ${code}  ${meaning}`));
  return `${lines.join('\n')}\n`;
}

/** The option values, or `help`; a bad command line throws UsageError. */
export function parseCommandLine<O extends Record<string, CliOption>>(spec: CliSpec<O>, argv: readonly string[]): { help: true } | { help: false; values: CliValues<O> } {
  // Defaults are filled in after the exclusive check, which must see only what was typed.
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, o] of Object.entries({ ...spec.options, help: HELP })) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}) };
  }
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (error) {
    // parseArgs' messages name the option and add advice for `--` that does not apply here: keep
    // the first sentence. (Not `instanceof Error`: under jest, Node's own errors come from another realm.)
    const message = String((error as { message?: unknown }).message ?? error);
    throw new UsageError(message.split(/\.\s/)[0].replace(/\.$/, ''));
  }
  if (values.help) return { help: true };
  for (const group of spec.exclusive ?? []) {
    const given = group.filter((name) => values[name] !== undefined);
    if (given.length > 1) {
      const names = group.map((name) => `--${name}`);
      throw new UsageError(group.length === 2 ? `give ${names.join(' or ')}, not both` : `give only one of ${names.join(', ')}`);
    }
  }
  for (const [name, o] of Object.entries(spec.options)) {
    if (o.type === 'boolean') values[name] = values[name] === true;
    else if (values[name] === undefined && o.default !== undefined) values[name] = o.default;
  }
  delete values.help;
  return { help: false, values: values as CliValues<O> };
}

/** Turns an error thrown while reading an option's value into a UsageError. */
export function optionValue<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

export function positiveInteger(name: string, raw: string | undefined): number {
  return integerAtLeast(name, raw, 1, 'a positive integer');
}

export function nonNegativeInteger(name: string, raw: string | undefined): number {
  return integerAtLeast(name, raw, 0, 'a whole number ≥ 0');
}

function integerAtLeast(name: string, raw: string | undefined, min: number, wording: string): number {
  const value = Number(raw);
  if (raw === undefined || !/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`--${name} must be ${wording}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

export function numberIn(name: string, raw: string | undefined, { min = 0, max = Number.POSITIVE_INFINITY } = {}): number {
  const value = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Number.POSITIVE_INFINITY ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${name} must be a number ${range}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** A name (of a stack, a table, a region): absent is fine, blank is not. */
export function nonEmpty<T extends string | undefined>(name: string, raw: T): T {
  if (raw !== undefined && raw.trim() === '') throw new UsageError(`--${name} needs a non-empty value`);
  return raw;
}

export function oneOf<T extends string>(name: string, raw: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(raw)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as T;
}

export interface CliIo {
  argv: readonly string[];
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  exit(code: number): void;
}

/**
 * Parses the command line and runs `main` with its values; the process exits with main's
 * status. `--help` prints the usage on stdout (exit 0); a UsageError, from parsing or from
 * main reading a value, prints one line and the usage on stderr (exit 2); a CommandError its
 * message (exit 1); anything else the whole error, stack included (`failureStatus`, default 1).
 */
export function runCli<O extends Record<string, CliOption>>(
  spec: CliSpec<O>,
  main: (values: CliValues<O>) => Promise<number | void> | number | void,
  { failureStatus = 1, io = processIo() }: { failureStatus?: number; io?: CliIo } = {},
): Promise<void> {
  const fail = (error: unknown): void => {
    if (error instanceof UsageError) {
      io.stderr.write(`${spec.command.replace(/ --$/, '')}: ${error.message}\n\n${usage(spec)}`);
      io.exit(2);
    } else if (error instanceof CommandError) {
      io.stderr.write(`${error.message}\n`);
      io.exit(1);
    } else {
      io.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      io.exit(failureStatus);
    }
  };
  let parsed: ReturnType<typeof parseCommandLine<O>>;
  try {
    parsed = parseCommandLine(spec, io.argv);
  } catch (error) {
    fail(error);
    return Promise.resolve();
  }
  if (parsed.help) {
    io.stdout.write(usage(spec));
    io.exit(0);
    return Promise.resolve();
  }
  const { values } = parsed;
  return Promise.resolve()
    .then(() => main(values))
    .then((status) => io.exit(status ?? 0), fail);
}

function processIo(): CliIo {
  return { argv: process.argv.slice(2), stdout: process.stdout, stderr: process.stderr, exit: (code) => process.exit(code) };
}

// ---------------------------------------------------------------- progress

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressPhase {
  /** `count` more items done. */
  tick(count?: number): void;
  /** The phase is over (call it in a finally): the last line, with the elapsed time. */
  end(): void;
}

export interface ProgressOptions {
  /** Shown in front of every line: `[bench] paths 4/24 …`. */
  name: string;
  quiet?: boolean;
  stream?: ProgressStream;
  now?: () => number;
  /** Without a terminal, a line at least this often while items complete (besides every 10 %). */
  everyMs?: number;
  /** On a terminal, the updating line is redrawn at most this often. */
  redrawMs?: number;
}

/**
 * Progress of a long command on stderr, phase by phase: done / total and elapsed time. On a
 * terminal one line that updates in place; otherwise (a file, a CI log) a plain line at each
 * 10 % and every few seconds, not one per item. `quiet` writes nothing.
 */
export class ProgressReporter {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly everyMs: number;
  private readonly redrawMs: number;
  /** The text of the updating line on the terminal, while a phase shows one. */
  private shown: string | undefined;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
    this.now = options.now ?? (() => performance.now());
    this.everyMs = options.everyMs ?? 5_000;
    this.redrawMs = options.redrawMs ?? 100;
  }

  phase(label: string, total: number): ProgressPhase {
    if (this.options.quiet) return { tick: () => undefined, end: () => undefined };
    const started = this.now();
    let done = 0;
    let ended = false;
    let lastLineAt = started;
    let lastStep = 0;
    const elapsed = () => `${((this.now() - started) / 1000).toFixed(1)} s`;
    const figures = () => `${done}/${total}${total > 0 ? ` (${Math.floor((100 * done) / total)}%)` : ''}`;
    const text = (tail: string) => `[${this.options.name}] ${label}: ${tail}`;
    const show = (line: string, final: boolean) => {
      if (this.tty) {
        this.stream.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
        this.shown = final ? undefined : line;
      } else {
        this.stream.write(`${line}\n`);
      }
      lastLineAt = this.now();
    };
    show(text(`${figures()}, 0.0 s`), false);
    return {
      tick: (count = 1) => {
        if (ended) return;
        done = Math.min(total, done + count);
        const step = total > 0 ? Math.floor((10 * done) / total) : 0;
        const due = this.tty ? this.now() - lastLineAt >= this.redrawMs || done === total : step > lastStep || this.now() - lastLineAt >= this.everyMs;
        // The last item's line is end()'s, which adds the total time.
        if (due && !(done === total && !this.tty)) show(text(`${figures()}, ${elapsed()}`), false);
        lastStep = step;
      },
      end: () => {
        if (ended) return;
        ended = true;
        show(text(done === total ? `${figures()} in ${elapsed()}` : `stopped at ${figures()} after ${elapsed()}`), true);
      },
    };
  }

  /** Writes other output (a line on stdout, say) without mixing it into the updating line. */
  above(write: () => void): void {
    if (this.tty && this.shown !== undefined) this.stream.write('\r\x1b[K');
    write();
    if (this.tty && this.shown !== undefined) this.stream.write(this.shown);
  }
}

/** The `--quiet` option of the commands that report progress. */
export const QUIET_OPTION = { type: 'boolean', short: 'q', description: 'no progress lines on stderr' } as const satisfies CliOption;

/**
 * A file generated from the code and checked in (docs/actions.md, docs/openapi.json): written, or
 * with `check` only compared, failing when it is missing or differs. `what` says how many of what
 * it holds ("5 actions").
 */
export function writeGenerated(args: { file: string; text: string; check: boolean; command: string; what: string }): void {
  const name = path.relative(path.join(__dirname, '..'), args.file);
  if (args.check) {
    let current: string | undefined;
    try {
      current = readFileSync(args.file, 'utf8');
    } catch {
      // A missing file is out of date too.
    }
    if (current !== args.text) throw new CommandError(`${name} is out of date: run \`${args.command}\` and commit it.`);
    console.log(`${name} is up to date.`);
    return;
  }
  writeFileSync(args.file, args.text);
  console.log(`Wrote ${name} (${args.what}).`);
}
