// `alphabetical` (0.x: `name`): the last tag in byte order (CalVer such as 2024.01.15).
import { byName, type TagStrategy } from './strategy';

export const alphabeticalStrategy: TagStrategy = {
  name: 'alphabetical',
  needsBuildTime: false,
  writesDigest: false,
  rank(_spec, tags) {
    return [...tags].sort((a, b) => byName(b.name, a.name));
  },
};
