import type { UpdateStrategyName } from '../annotations';
import { alphabeticalStrategy } from './alphabetical';
import { digestStrategy } from './digest';
import { newestBuildStrategy } from './newest-build';
import { semverStrategy } from './semver';
import type { TagStrategy } from './strategy';

export type { TagInfo, TagStrategy } from './strategy';

const STRATEGIES: Record<UpdateStrategyName, TagStrategy> = {
  semver: semverStrategy,
  'newest-build': newestBuildStrategy,
  alphabetical: alphabeticalStrategy,
  digest: digestStrategy,
};

export const strategyFor = (name: UpdateStrategyName): TagStrategy => STRATEGIES[name];
