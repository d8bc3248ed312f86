// `newest-build` (0.x: `latest`): the tag whose image was built last, by the config's
// `created` time. Tags without a build time are skipped.
import { byName, type TagStrategy } from './strategy';

export const newestBuildStrategy: TagStrategy = {
  name: 'newest-build',
  needsBuildTime: true,
  writesDigest: false,
  rank(_spec, tags) {
    return tags.filter((t) => t.created !== undefined).sort((a, b) => b.created! - a.created! || byName(b.name, a.name));
  },
};
