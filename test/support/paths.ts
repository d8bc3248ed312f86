import * as path from 'node:path';

/** The repository root, from dist/test/support. */
export const repoRoot = path.resolve(__dirname, '..', '..', '..');
/**
 * The examples every test reads: the repository's copy of ../shared/examples, so a
 * clone anywhere has them (examples-copy.test.ts keeps it identical), or SLUICE_EXAMPLES.
 */
export const examplesDir = process.env.SLUICE_EXAMPLES ?? path.join(repoRoot, 'examples');
/** The team's shared examples, beside the repository where there is one. */
export const sharedExamplesDir = path.resolve(repoRoot, '..', 'shared', 'examples');
export const cliPath = path.join(repoRoot, 'dist', 'cmd', 'sluice.js');
export const workerMainPath = path.join(repoRoot, 'dist', 'cmd', 'main.js');
