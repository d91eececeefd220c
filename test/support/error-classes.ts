import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export type ErrorClass = new (...args: never[]) => Error;

const LAMBDAS = join(__dirname, '..', '..', 'lambdas');

/** Every module under lambdas/ whose text exports a class that extends another. */
function modulesExportingSubclasses(dir = LAMBDAS): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return modulesExportingSubclasses(path);
    return entry.name.endsWith('.ts') && /^export (?:abstract )?class \w+ extends /m.test(readFileSync(path, 'utf8')) ? [path] : [];
  });
}

/**
 * Every error class a module under lambdas/ exports, as `[module.Class, Class]` (jest keeps
 * class names: here `Class.name` is the class's own). The modules are found by reading the
 * sources, so a class in a new module counts without being listed anywhere.
 */
export function exportedErrorClasses(): (readonly [string, ErrorClass])[] {
  return modulesExportingSubclasses().flatMap((file) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exports = require(file) as Record<string, unknown>;
    const where = relative(LAMBDAS, file).replace(/\.ts$/, '');
    return Object.entries(exports)
      .filter((entry): entry is [string, ErrorClass] => typeof entry[1] === 'function' && entry[1].prototype instanceof Error)
      .map(([name, Class]) => [`${where}.${name}`, Class] as const);
  });
}
