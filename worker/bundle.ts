// Bundles the workflow code once at build time (see scripts/prepare.js).
import * as fs from 'node:fs';
import { prebuiltBundlePath } from './worker';
import { bundleSluiceWorkflows } from './workflow-code';

async function main() {
  fs.writeFileSync(prebuiltBundlePath, await bundleSluiceWorkflows());
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
