import { bundleAll } from './cold-start';
const out = process.argv[2];
for (const b of bundleAll(out)) console.log(b.name, b.file, JSON.stringify(b.environment));
