import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactJournal, JOURNAL_FILE, JournalLog, lastSnapshot, readJournalDir, type Snapshot } from '../../../local/sfn/journal';

/** The local engine's journal file, read and written as a restart reads and writes it. */

type Entry = Snapshot & { record: { executionArn: string; status: string }; note?: string };

const entry = (arn: string, status: string, note?: string): Entry => ({ record: { executionArn: arn, status }, ...(note === undefined ? {} : { note }) });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'warden-journal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const logText = () => readFileSync(join(dir, JOURNAL_FILE), 'utf8');

it('an execution is its last whole line: blank and torn lines are skipped wherever they are', () => {
  writeFileSync(
    join(dir, JOURNAL_FILE),
    [
      JSON.stringify(entry('a', 'RUNNING')),
      '',
      // Torn by a crash, then appended after by the next process.
      `{"record":{"executionArn":"a","status":"SUCC`,
      JSON.stringify(entry('b', 'RUNNING')),
      JSON.stringify(entry('a', 'SUCCEEDED')),
      JSON.stringify({ note: 'no record: not a snapshot' }),
      `{"record":{"executionArn":"b","status":"FAI`,
    ].join('\n'),
  );
  const { executions, lines, legacyFiles } = readJournalDir<Entry>(dir);
  expect([...executions.entries()].map(([arn, snapshot]) => [arn, snapshot.record.status])).toEqual([
    ['a', 'SUCCEEDED'],
    ['b', 'RUNNING'],
  ]);
  expect(lines).toBe(6);
  expect(legacyFiles).toEqual([]);
});

it('reads a line longer than its read buffer, with characters of several bytes across the seams, whole', () => {
  // Over 1 MiB of three-byte characters: the reader's 1 MiB pieces split some of them.
  const long = '€'.repeat(700_000);
  writeFileSync(join(dir, JOURNAL_FILE), `${JSON.stringify(entry('long', 'RUNNING', long))}\n${JSON.stringify(entry('short', 'RUNNING', 'ü'))}`);
  const { executions } = readJournalDir<Entry>(dir);
  expect(executions.get('long')?.note).toBe(long);
  expect(executions.get('short')?.note).toBe('ü');
});

it("an earlier version's per-execution files are read under the log, whose lines are newer", () => {
  writeFileSync(join(dir, 'a.json'), JSON.stringify(entry('a', 'RUNNING', 'legacy')));
  writeFileSync(join(dir, 'c.json'), `${JSON.stringify(entry('c', 'RUNNING'))}\n{"record":{"exec`);
  // A start that crashed in its first write: nothing whole, nothing to resume.
  writeFileSync(join(dir, 'd.json'), '{"record":');
  writeFileSync(join(dir, JOURNAL_FILE), `${JSON.stringify(entry('a', 'SUCCEEDED', 'log'))}\n`);
  const { executions, legacyFiles } = readJournalDir<Entry>(dir);
  expect(executions.get('a')).toEqual(entry('a', 'SUCCEEDED', 'log'));
  expect(executions.get('c')).toEqual(entry('c', 'RUNNING'));
  expect(executions.has('d')).toBe(false);
  expect(legacyFiles.map((file) => file.slice(dir.length + 1)).sort()).toEqual(['a.json', 'c.json', 'd.json']);
});

it('compaction rewrites the log as one line per execution and removes the files it folded in', () => {
  writeFileSync(join(dir, 'old.json'), JSON.stringify(entry('old', 'RUNNING')));
  writeFileSync(join(dir, JOURNAL_FILE), [entry('x', 'RUNNING'), entry('x', 'SUCCEEDED')].map((e) => JSON.stringify(e)).join('\n'));
  const read = readJournalDir<Entry>(dir);
  compactJournal(dir, read.executions.values(), read.legacyFiles);
  expect(logText()).toBe(`${JSON.stringify(entry('old', 'RUNNING'))}\n${JSON.stringify(entry('x', 'SUCCEEDED'))}\n`);
  expect(readdirSync(dir)).toEqual([JOURNAL_FILE]);
});

it('a compaction that cannot write leaves the log and the older files as they were, and says so', () => {
  writeFileSync(join(dir, 'old.json'), JSON.stringify(entry('old', 'RUNNING')));
  const before = [entry('x', 'RUNNING'), entry('x', 'SUCCEEDED')].map((e) => JSON.stringify(e)).join('\n');
  writeFileSync(join(dir, JOURNAL_FILE), before);
  // The temporary file's name is taken by a directory: the write fails, as on a full disk.
  mkdirSync(join(dir, `${JOURNAL_FILE}.tmp`));
  const errors: string[] = [];
  const spy = jest.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
  try {
    const read = readJournalDir<Entry>(dir);
    compactJournal(dir, read.executions.values(), read.legacyFiles);
  } finally {
    spy.mockRestore();
  }
  expect(logText()).toBe(before);
  expect(readdirSync(dir).sort()).toEqual([JOURNAL_FILE, `${JOURNAL_FILE}.tmp`, 'old.json'].sort());
  expect(errors).toEqual([expect.stringMatching(/journal\.log left as it is \(.*EISDIR/)]);
  // Still read the same way.
  expect([...readJournalDir<Entry>(dir).executions.keys()]).toEqual(['old', 'x']);
});

it('appends one line per snapshot; a fresh descriptor starts on a new line, so an append after a torn one is whole', () => {
  writeFileSync(join(dir, JOURNAL_FILE), `${JSON.stringify(entry('a', 'RUNNING'))}\n{"record":{"executionArn":"a","sta`);
  const log = new JournalLog(dir);
  log.append(JSON.stringify(entry('a', 'SUCCEEDED')));
  log.append(JSON.stringify(entry('b', 'RUNNING')));
  log.close();
  log.append(JSON.stringify(entry('b', 'FAILED')));
  log.close();
  expect(lastSnapshot<Entry>(logText())).toEqual(entry('b', 'FAILED'));
  const { executions } = readJournalDir<Entry>(dir);
  expect(executions.get('a')?.record.status).toBe('SUCCEEDED');
  expect(executions.get('b')?.record.status).toBe('FAILED');
  expect(logText().split('\n').filter((line) => line.startsWith('{"record":{"executionArn":"b"'))).toHaveLength(2);
});

it('a failed append throws with the cause, and the next append opens the file afresh', () => {
  const log = new JournalLog(join(dir, 'missing'));
  expect(() => log.append('{}')).toThrow(/journal write failed: .*ENOENT/);
  mkdirSync(join(dir, 'missing'));
  log.append(JSON.stringify(entry('a', 'RUNNING')));
  log.close();
  expect(readJournalDir<Entry>(join(dir, 'missing')).executions.get('a')).toEqual(entry('a', 'RUNNING'));
});
