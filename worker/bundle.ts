// Bundles the workflow code once at build time (see scripts/prepare.js).
import * as fs from 'node:fs';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { prebuiltBundlePath } from './worker';

async function main() {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: new DefaultLogger('WARN') });
  fs.writeFileSync(prebuiltBundlePath, code);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
