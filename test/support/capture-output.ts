import { format } from 'node:util';

/** What a test captured from stdout, stderr and the console, and how to give the streams back. */
export interface CapturedOutput {
  /** Everything written so far, in order. */
  text(): string;
  /** The lines written so far that are JSON objects (the handlers' structured logs), parsed. */
  jsonLines<T = Record<string, unknown>>(): T[];
  restore(): void;
}

/** Captures (and silences) everything written to stdout, stderr and the console until restored. */
export function captureOutput(): CapturedOutput {
  const output: string[] = [];
  const restorers: (() => void)[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const spy = jest.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array) => {
      output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof stream.write);
    restorers.push(() => spy.mockRestore());
  }
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    const spy = jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      output.push(`${format(...args)}\n`);
    });
    restorers.push(() => spy.mockRestore());
  }
  const text = () => output.join('');
  return {
    text,
    jsonLines: <T,>() =>
      text()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as T),
    restore: () => restorers.forEach((restore) => restore()),
  };
}
