// The scmProvider generator's `filters` (Argo's scm_provider.ListRepos) as Argo documents them:
// the conditions of one entry are ANDed, entries are ORed. Argo's code splits the entries into a
// repository phase and a branch phase, so `repositoryMatch` in one entry and `branchMatch` in
// another are ANDed and a mixed entry can lose a condition (argo-cd #14420); Sluice keeps the two
// phases (no branch listing for a repository no entry can match) but evaluates whole entries.
import type { ScmProvider, ScmRepository } from './provider';

export interface ScmFilter {
  repositoryMatch?: string;
  labelMatch?: string;
  branchMatch?: string;
  pathsExist?: string[];
  pathsDoNotExist?: string[];
}

interface CompiledFilter {
  repositoryMatch?: RegExp;
  labelMatch?: RegExp;
  branchMatch?: RegExp;
  pathsExist: string[];
  pathsDoNotExist: string[];
}

/** A Go (RE2) pattern as a JavaScript one: unanchored like MatchString; leading (?i)/(?s)/(?m) flags become flags. */
export function goRegExp(pattern: string): RegExp {
  const m = /^\(\?([ims]+)\)/.exec(pattern);
  return m ? new RegExp(pattern.slice(m[0].length), [...new Set(m[1])].join('')) : new RegExp(pattern);
}

function compile(filters: readonly ScmFilter[]): CompiledFilter[] {
  const re = (name: string, p: string | undefined) => {
    if (p === undefined || p === null) return undefined;
    try {
      return goRegExp(p);
    } catch (err) {
      throw new Error(`error compiling ${name} regexp ${JSON.stringify(p)}: ${(err as Error).message}`, { cause: err });
    }
  };
  return filters.map((f) => ({
    repositoryMatch: re('RepositoryMatch', f?.repositoryMatch),
    labelMatch: re('LabelMatch', f?.labelMatch),
    branchMatch: re('BranchMatch', f?.branchMatch),
    pathsExist: (f?.pathsExist ?? []).map((p) => String(p).replace(/\/+$/, '')),
    pathsDoNotExist: (f?.pathsDoNotExist ?? []).map((p) => String(p).replace(/\/+$/, '')),
  }));
}

const repoConditionsHold = (f: CompiledFilter, repo: ScmRepository) =>
  (!f.repositoryMatch || f.repositoryMatch.test(repo.repository)) && (!f.labelMatch || repo.labels.some((l) => f.labelMatch!.test(l)));

/** Every repository and branch the filters keep, in the provider's order. */
export async function listFilteredRepos(provider: ScmProvider, filters: readonly ScmFilter[] | undefined, cloneProtocol: string): Promise<ScmRepository[]> {
  const compiled = compile(filters ?? []);
  const repos = await provider.listRepos(cloneProtocol);
  const out: ScmRepository[] = [];
  for (const repo of repos) {
    const entries = compiled.filter((f) => repoConditionsHold(f, repo));
    if (compiled.length > 0 && entries.length === 0) continue;
    for (const branch of await provider.getBranches(repo)) {
      // One API call per path and branch, however many entries ask.
      const known = new Map<string, Promise<boolean>>();
      const has = (p: string) => {
        let v = known.get(p);
        if (!v) known.set(p, (v = provider.repoHasPath(branch, p)));
        return v;
      };
      const pathsHold = async (f: CompiledFilter) => {
        for (const p of f.pathsExist) if (!(await has(p))) return false;
        for (const p of f.pathsDoNotExist) if (await has(p)) return false;
        return true;
      };
      let keep = compiled.length === 0;
      for (const f of entries) {
        if ((!f.branchMatch || f.branchMatch.test(branch.branch)) && (await pathsHold(f))) {
          keep = true;
          break;
        }
      }
      if (keep) out.push(branch);
    }
  }
  return out;
}
