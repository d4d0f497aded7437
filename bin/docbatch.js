#!/usr/bin/env node
// The project runs its TypeScript sources directly (Node ≥ 24 strips types). `npm ci` installs
// Node 24 as a devDependency and `npx`/`npm run` put it first on PATH; say so plainly when an
// older Node is the one running this file.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `docbatch needs Node.js 24 or newer (this is ${process.version}). Run it through npx after \`npm ci\` (npx docbatch …), which uses the Node 24 the project installs.\n`,
  );
  process.exitCode = 1;
} else {
  const { main } = await import('../src/cli/main.ts');
  await main(process.argv);
}
