// `digest`: follow one mutable tag (the one image-list names) and write its digest when it changes.
import type { TagStrategy } from './strategy';

export const digestStrategy: TagStrategy = {
  name: 'digest',
  needsBuildTime: false,
  writesDigest: true,
  rank(spec, tags) {
    return tags.filter((t) => t.name === spec.constraint);
  },
};
