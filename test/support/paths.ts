import * as path from 'node:path';

/** The repository root, from dist/test/support. */
export const repoRoot = path.resolve(__dirname, '..', '..', '..');
/** ../shared/examples beside the repository (as CI lays it out), or SLUICE_EXAMPLES. */
export const examplesDir = process.env.SLUICE_EXAMPLES ?? path.resolve(repoRoot, '..', 'shared', 'examples');
export const cliPath = path.join(repoRoot, 'dist', 'api', 'cli', 'main.js');
export const workerMainPath = path.join(repoRoot, 'dist', 'worker', 'main.js');
