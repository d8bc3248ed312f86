// Sluice's release version, shown by `sluice version` and /api/version. Kept equal to
// package.json's "version" by test/unit/version.test.ts (domain code reads no files).
export const SLUICE_VERSION = '0.1.0';
