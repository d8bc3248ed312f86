// `semver` (the default): the highest version allowed by the image-list constraint; tags
// that are not versions are skipped without error.
import { compareVersions, parseVersion, satisfies } from '../../argo/semver';
import { byName, type TagStrategy } from './strategy';

export const semverStrategy: TagStrategy = {
  name: 'semver',
  needsBuildTime: false,
  writesDigest: false,
  rank(spec, tags) {
    const versions = tags.flatMap((t) => {
      const v = parseVersion(t.name);
      if (!v) return [];
      if (spec.semverConstraint && !satisfies(v, spec.semverConstraint)) return [];
      return [{ t, v }];
    });
    versions.sort((a, b) => compareVersions(b.v, a.v) || byName(b.t.name, a.t.name));
    return versions.map((x) => x.t);
  },
};
