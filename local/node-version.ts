/**
 * The local stack runs on the Node 24 pinned in devDependencies: npm scripts find it first on
 * their PATH. aws-local-stepfunctions 3 needs Node ≥ 22, and the Lambdas run on 24. Started any
 * other way on an older Node, say so in one line and stop instead of failing somewhere deep.
 */
const REQUIRED_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);
if (major < REQUIRED_MAJOR) {
  console.error(
    `Warden needs Node ${REQUIRED_MAJOR} (this is ${process.version}): run it through npm (npm start, npm test, npm run …), which uses the node pinned in devDependencies after npm ci.`,
  );
  process.exit(1);
}

export {};
