// How an Application compares with Git: fetch, resolve and render its sources, read the
// tracked live objects (from the watcher's copies where it can), and diff them through a
// server-side dry-run. Git and render failures come back as the comparison's error.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FIELD_MANAGER } from '../domain/argo/names';
import { ARGOCD_NAMESPACE, DEFAULT_PROJECT, SECRET_TYPE_LABEL, TRACKING_ID_ANNOTATION } from '../domain/argo/names';
import { failsResource, isNotFound, isOutOfReach, Resources, type KubeClient, type KubeObject, type ResourceRef } from '../k8s/kube-client';
import { assessHealth, worstHealth } from '../domain/health';
import { differs, ignoredFieldSets, ignoredJqExpressions, normalizeForDiff, unifiedDiff } from '../domain/applications/diff';
import { JqExpressionError, JqPaths } from './jq';
import { checkRepoURL, pickRepoCredentials, redactURL, SourceRefusedError } from '../domain/applications/source-safety';
import { isTrackedBy, prepareManifest } from '../domain/applications/tracking';
import type { ApplicationRef, ApplicationSpec, Comparison, ObjectRef, ResourceStatus } from '../domain/applications/types';
import { groupOf, isHook, isSkipped, resourceKey, type ManifestResource } from '../domain/sync/resources';
import { Discovery, UnknownKindError } from './discovery';
import { ClusterClients } from '../k8s/clusters';
import type { Cluster } from '../domain/projects/boundaries';
import { orphanedResourceWarning, type AppProject, type LiveResource } from '../domain/projects/boundaries';
import { checkProjectAllowsApp, checkProjectAllowsResources, projectOf } from './project-permissions';
import { fileReposAllowed, GitError, GitRepositories, sluiceHome } from './git';
import { HelmRepositories } from './render/helm-repositories';
import { checkChartName, checkChartRepoURL, checkHelmVersion } from '../domain/applications/helm-charts';
import { repositoryCredentials, tlsHostOf, type RepositoryCredentials } from '../domain/applications/repository-secrets';

/** Argo CD's ConfigMap of CA certificates by repository host. */
const TLS_CERTS_CONFIGMAP = 'argocd-tls-certs-cm';
import { RenderError, renderSource } from './render';
import { insideRepo, isInside } from './render/paths';
import { overrideFileNames, withSourceOverrides } from '../domain/images/source-overrides';
import { isMultiSource, isRefOnly, joinRevisions, referencedValueFile, refNames, revisionsFor, sourcesOf } from '../domain/applications/sources';
import { stringify } from 'yaml';
import { SharedReads } from './shared-reads';
import { CompareVerdicts } from './compare-verdicts';
import { cachedManaged, type ApplicationCache } from './application-cache';

const rbacRef = (plural: string): ResourceRef => ({ group: 'rbac.authorization.k8s.io', version: 'v1', plural, namespaced: true });
/** The kinds looked at for orphaned resources: what people deploy by hand, not what controllers derive. */
const ORPHAN_KINDS: [group: string, kind: string, ref: ResourceRef][] = [
  ['', 'ConfigMap', Resources.configMap],
  ['', 'Secret', Resources.secret],
  ['', 'Service', Resources.service],
  ['', 'Pod', Resources.pod],
  ['', 'ServiceAccount', { group: '', version: 'v1', plural: 'serviceaccounts', namespaced: true }],
  ['', 'PersistentVolumeClaim', { group: '', version: 'v1', plural: 'persistentvolumeclaims', namespaced: true }],
  ['apps', 'Deployment', Resources.deployment],
  ['apps', 'StatefulSet', { group: 'apps', version: 'v1', plural: 'statefulsets', namespaced: true }],
  ['apps', 'DaemonSet', { group: 'apps', version: 'v1', plural: 'daemonsets', namespaced: true }],
  ['batch', 'Job', Resources.job],
  ['batch', 'CronJob', { group: 'batch', version: 'v1', plural: 'cronjobs', namespaced: true }],
  ['networking.k8s.io', 'Ingress', Resources.ingress],
  ['rbac.authorization.k8s.io', 'Role', rbacRef('roles')],
  ['rbac.authorization.k8s.io', 'RoleBinding', rbacRef('rolebindings')],
];
/**
 * How old a fetch a plain reconcile may reuse. Many Applications on one repository then
 * share one fetch; a refresh, a webhook or a hard refresh always fetches anew.
 */
export const FETCH_REUSE_MS = 5000;
export interface CompareInput {
  app: ApplicationRef;
  instance: string;
  spec: ApplicationSpec;
  /** "group/Kind" of kinds the app managed before, so resources removed from Git are still found. */
  kinds: string[];
  /** The tracked objects the previous compare found; undefined lists every object of `kinds` instead. */
  known?: ObjectRef[];
  /**
   * Git must be read as of this time (epoch ms): when a refresh or webhook asked, or when
   * the Application was created. Any fetch started since serves it, so Applications asking
   * together share one fetch. Default: FETCH_REUSE_MS ago.
   */
  freshSinceMs?: number;
  /** A revision to compare at instead of targetRevision (a rollback, a sync to a revision). */
  revision?: string;
  hard?: boolean;
  /**
   * Read live objects from the API server, not the watcher's copies: right after a sync,
   * whose writes the copies may not have yet.
   */
  fromServer?: boolean;
}

/** A tracked live object; `copy` when it is the watcher's copy rather than the API server's answer. */
interface LiveTracked {
  ref: ResourceRef;
  obj: ManifestResource;
  copy?: true;
}

interface Desired {
  ref?: ResourceRef;
  manifest: ManifestResource;
  kindError?: string;
}

const objectRef = (m: ManifestResource): ObjectRef => ({ apiVersion: m.apiVersion, kind: m.kind, namespace: m.metadata.namespace, name: m.metadata.name });

export const isUserError = (err: unknown) =>
  err instanceof GitError || err instanceof RenderError || err instanceof SourceRefusedError || err instanceof JqExpressionError;

/** The cluster an Application deploys to: its client, discovery and API group versions. */
export interface Target {
  kube: KubeClient;
  discovery: Discovery;
  preferredVersion: Map<string, string>;
  /** Lists of a kind in a namespace, shared by the first compares of a burst of new Applications. */
  lists: SharedReads;
  /** Dry-run verdicts of the last compares, by object. */
  verdicts: CompareVerdicts;
}

export type Comparer = ReturnType<typeof createComparer>;

export function createComparer(kube: KubeClient, repos: GitRepositories, jq: JqPaths, clusters: ClusterClients, cache?: ApplicationCache) {
  const discovery = new Discovery(kube);
  const helmRepos = new HelmRepositories(sluiceHome());
  const targets = new WeakMap<KubeClient, Target>();
  const shared = new SharedReads();

  /** The destination's cluster (SourceRefusedError naming an unknown one); kube, the control plane, keeps Applications, projects and Secrets. */
  async function targetFor(spec: ApplicationSpec): Promise<Target> {
    const { kube: client } = await clusters.forDestination(spec.destination);
    let t = targets.get(client);
    if (!t) {
      t = {
        kube: client,
        discovery: client === kube ? discovery : new Discovery(client),
        preferredVersion: new Map(),
        lists: new SharedReads(),
        verdicts: new CompareVerdicts(),
      };
      targets.set(client, t);
    }
    return t;
  }

  /** The repository Secret for a URL (git, Helm repository or OCI registry), as Argo CD picks it. */
  async function credentialsFor(app: ApplicationRef, repoURL: string, notBeforeMs?: number, withCA = false): Promise<RepositoryCredentials | undefined> {
    const found: { type: 'repository' | 'repo-creds'; url: string; secret: KubeObject }[] = [];
    for (const ns of new Set([app.namespace, ARGOCD_NAMESPACE])) {
      try {
        const { items } = await shared.get(
          `repository-secrets/${ns}`,
          () => kube.list(Resources.secret, ns, { labelSelector: `${SECRET_TYPE_LABEL} in (repository,repo-creds)` }),
          notBeforeMs,
        );
        for (const s of items) {
          const data = (s.data ?? {}) as Record<string, string>;
          const url = data.url ? Buffer.from(data.url, 'base64').toString('utf8') : '';
          const type = s.metadata.labels?.[SECRET_TYPE_LABEL] === 'repo-creds' ? 'repo-creds' : 'repository';
          if (url) found.push({ type, url, secret: s });
        }
      } catch (err) {
        if (!isOutOfReach(err)) throw err;
      }
    }
    const picked = pickRepoCredentials(repoURL, found);
    // Only Helm and OCI repositories read argocd-tls-certs-cm here; git uses the system's CAs.
    const ca = withCA ? await tlsCertificateFor(app, repoURL, notBeforeMs) : undefined;
    if (!picked) return ca ? { ...repositoryCredentials({}), tlsCA: ca } : undefined;
    const data = (picked.secret.data ?? {}) as Record<string, string>;
    const creds = repositoryCredentials(Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])));
    return ca ? { ...creds, tlsCA: ca } : creds;
  }

  /** The CA certificates argocd-tls-certs-cm holds for the repository's host (Argo CD's custom TLS certificates). */
  async function tlsCertificateFor(app: ApplicationRef, repoURL: string, notBeforeMs?: number): Promise<string | undefined> {
    const host = tlsHostOf(repoURL);
    if (!host) return undefined;
    for (const ns of new Set([app.namespace, ARGOCD_NAMESPACE])) {
      try {
        const cm = await shared.get(`tls-certs/${ns}`, () => kube.find(Resources.configMap, ns, TLS_CERTS_CONFIGMAP), notBeforeMs);
        const pem = (cm?.data as Record<string, string> | undefined)?.[host];
        if (pem) return pem;
      } catch (err) {
        if (!isOutOfReach(err)) throw err;
      }
    }
    return undefined;
  }

  /** The Application's AppProject, one read shared by the Applications asking together. */
  function projectFor(app: ApplicationRef, spec: ApplicationSpec, notBeforeMs?: number): ReturnType<typeof projectOf> {
    return shared.get(`project/${app.namespace}/${spec.project || DEFAULT_PROJECT}`, () => projectOf(kube, app, spec), notBeforeMs);
  }

  /**
   * Fetch, resolve and render: the manifests of the source (or of every source, combined)
   * at a commit, prepared for this app. With spec.sources, `revision` is one commit per
   * source joined with ',', and a Helm value file may read `$<ref>/<path>` from another source.
   */
  async function desiredState(input: {
    app: ApplicationRef;
    instance: string;
    spec: ApplicationSpec;
    revision?: string;
    hard?: boolean;
    freshSinceMs?: number;
  }): Promise<{
    revision: string;
    revisions?: string[];
    desired: Desired[];
    sourceType: string;
    sourceTypes?: string[];
    project?: AppProject;
    target: Target;
    known: Cluster[];
  }> {
    const sources = sourcesOf(input.spec);
    if (sources.length === 0) throw new RenderError('spec.source is missing');
    const multi = isMultiSource(input.spec);
    // A `chart` source is a Helm repository or an OCI registry, never fetched with git.
    const urls = sources.map(({ source, field }) => {
      checkHelmVersion(source.helm?.version, field);
      if (!source.chart) return checkRepoURL(source.repoURL, { allowFileRepos: fileReposAllowed() });
      checkChartName(source.chart, field);
      return checkChartRepoURL(source.repoURL, field);
    });
    const refs = refNames(input.spec);
    const target = await targetFor(input.spec);
    const known = await clusters.known();
    const project = await projectFor(input.app, input.spec, input.freshSinceMs);
    checkProjectAllowsApp(project, input.app, input.spec, known);
    const wanted = revisionsFor(input.spec, input.revision);
    const revisions: string[] = [];
    const trees: string[] = [];
    const refetched = new Set<string>();
    /** For chart sources: the chart's directory inside its extracted archive. */
    const charts = new Map<number, string>();
    for (let i = 0; i < sources.length; i++) {
      const url = urls[i]!;
      const { source, field } = sources[i]!;
      const creds = await credentialsFor(input.app, url, input.freshSinceMs, !!source.chart);
      // A hard refresh refetches each repository once, however many sources read it.
      const hard = !!input.hard && !refetched.has(url);
      refetched.add(url);
      if (source.chart) {
        const pulled = await helmRepos
          .pull({
            repoURL: url,
            chart: source.chart,
            targetRevision: wanted[i],
            creds,
            passCredentials: source.helm?.passCredentials,
            notBeforeMs: input.freshSinceMs,
            hard,
          })
          .catch((err: Error) => {
            throw err instanceof RenderError || err instanceof SourceRefusedError ? new RenderError(`${field}: ${err.message}`) : err;
          });
        revisions.push(pulled.version);
        trees.push(pulled.root);
        charts.set(i, pulled.rel);
        continue;
      }
      const revision = await repos.resolve(url, wanted[i], creds, { hard, notBeforeMs: input.freshSinceMs ?? Date.now() - FETCH_REUSE_MS });
      revisions.push(revision);
      trees.push(await repos.tree(url, revision));
    }
    const namespace = input.spec.destination?.namespace ?? '';
    const manifests: ManifestResource[] = [];
    const sourceTypes: string[] = [];
    for (let i = 0; i < sources.length; i++) {
      const { source, field } = sources[i]!;
      if (multi && isRefOnly(source)) continue; // lends its files to the others, renders nothing
      const fromRef = multi
        ? (file: string) => {
            const where = `${field}.helm.valueFiles`;
            const referenced = referencedValueFile(file, refs, where);
            return referenced && insideRepo(trees[referenced.source]!, referenced.path, `${where} ${JSON.stringify(file)}`);
          }
        : undefined;
      const chartRel = charts.get(i);
      // A chart from a Helm repository has no override files; a git source gets its .argocd-source files merged in.
      const rendered = await renderSource(
        trees[i]!,
        chartRel === undefined ? withOverrideFiles(trees[i]!, source, input.app.name) : { ...source, path: chartRel },
        input.app.name,
        namespace,
        {
          field,
          fromRef,
          hard: input.hard,
          // A chart from git whose dependencies are not vendored: built with the repository Secrets' credentials.
          dependencies:
            chartRel === undefined
              ? (chartDir, shown) => helmRepos.withDependencies(chartDir, shown, (dep) => credentialsFor(input.app, dep, input.freshSinceMs, true), input.hard)
              : undefined,
        },
      );
      manifests.push(...rendered.manifests);
      sourceTypes.push(rendered.type);
    }
    if (multi) {
      // Two sources rendering the same object: the later one wins (Argo CD also warns with RepeatedResourceWarning).
      const byKey = new Map<string, ManifestResource>();
      for (const m of manifests) {
        const key = resourceKey({ ...m, metadata: { ...m.metadata, namespace: m.metadata.namespace ?? namespace } });
        byKey.delete(key);
        byKey.set(key, m);
      }
      manifests.splice(0, manifests.length, ...byKey.values());
    }
    const revision = multi ? joinRevisions(revisions) : revisions[0]!;
    const sourceType = sourceTypes[0] ?? 'Directory';
    const desired: Desired[] = [];
    for (const m of manifests) {
      try {
        // Fresh: a kind whose CRD the last sync created must be seen at once.
        const ref = await target.discovery.resourceFor(m.apiVersion, m.kind, { fresh: true });
        desired.push({ ref, manifest: prepareManifest(m, input.instance, namespace, ref.namespaced) });
      } catch (err) {
        if (!(err instanceof UnknownKindError)) throw err;
        desired.push({ manifest: prepareManifest(m, input.instance, namespace, true), kindError: err.message });
      }
    }
    checkProjectAllowsResources(
      project,
      input.spec,
      desired.filter((d) => d.ref).map((d) => ({ manifest: d.manifest, namespaced: d.ref!.namespaced })),
      known,
    );
    return { revision, desired, sourceType, project: project?.project, target, known, ...(multi ? { revisions, sourceTypes } : {}) };
  }

  /**
   * AppProject orphanedResources.warn: the OrphanedResourceWarning message, counting
   * top-level objects (no ownerReferences) in the destination namespace that no
   * Application tracks. Only the common namespaced kinds are listed.
   */
  async function orphanWarning(target: Target, project: AppProject | undefined, spec: ApplicationSpec): Promise<string | undefined> {
    const namespace = spec.destination?.namespace;
    if (!project?.spec?.orphanedResources?.warn || !namespace) return undefined;
    const found: LiveResource[] = [];
    for (const [group, kind, ref] of ORPHAN_KINDS) {
      let items: KubeObject[];
      try {
        ({ items } = await target.kube.list(ref, namespace));
      } catch (err) {
        if (isOutOfReach(err)) continue;
        throw err;
      }
      for (const o of items) {
        if ((o.metadata.ownerReferences as unknown[] | undefined)?.length) continue;
        if (o.metadata.annotations?.[TRACKING_ID_ANNOTATION]) continue; // some Application's
        found.push({ group, kind, name: o.metadata.name, namespace });
      }
    }
    return orphanedResourceWarning(project, found, { server: spec.destination?.server, name: spec.destination?.name });
  }

  /**
   * Every live object tracked by the app. With `known` (the tracked objects the last
   * compare found), only those and the desired objects are read, one GET each, so a
   * compare costs the app's own objects, not the namespace's; without it (a new
   * workflow, a hard refresh), every object of the kinds is listed once.
   */
  async function liveTracked(
    target: Target,
    instance: string,
    kinds: Iterable<string>,
    namespaces: Set<string>,
    desired: Desired[],
    known?: ObjectRef[],
    notBeforeMs?: number,
    copies = false,
  ): Promise<Map<string, LiveTracked>> {
    const live = new Map<string, LiveTracked>();
    if (known) {
      const candidates = new Map<string, { ref?: ResourceRef; at: ObjectRef }>();
      for (const d of desired)
        if (d.ref)
          candidates.set(resourceKey(d.manifest), {
            ref: d.ref,
            at: { apiVersion: d.manifest.apiVersion, kind: d.manifest.kind, namespace: d.manifest.metadata.namespace, name: d.manifest.metadata.name },
          });
      for (const k of known) {
        const key = resourceKey({ apiVersion: k.apiVersion, kind: k.kind, metadata: { name: k.name, namespace: k.namespace } });
        if (!candidates.has(key)) candidates.set(key, { at: k });
      }
      for (const { ref: maybeRef, at } of candidates.values()) {
        let ref = maybeRef;
        try {
          ref ??= await target.discovery.resourceFor(at.apiVersion, at.kind);
        } catch (err) {
          if (err instanceof UnknownKindError) continue;
          throw err;
        }
        const copy = copies && target.kube === kube ? (cachedManaged(cache, ref, at.namespace, at.name) as ManifestResource | undefined) : undefined;
        const obj = copy ?? (await target.kube.find<ManifestResource>(ref, at.namespace, at.name));
        if (obj && isTrackedBy(instance, obj)) live.set(resourceKey(obj), { ref, obj, ...(copy ? { copy: true } : {}) });
      }
      return live;
    }
    for (const gk of kinds) {
      const [group, kind] = gk.split('|');
      const ref = await refForGroupKind(target, group, kind);
      if (!ref) continue;
      const scopes = ref.namespaced ? [...namespaces] : [undefined];
      for (const ns of scopes) {
        const { items } = await target.lists.get(`${ref.group}/${ref.version}/${ref.plural}/${ns ?? ''}`, () => target.kube.list(ref, ns), notBeforeMs);
        for (const obj of items as unknown as ManifestResource[]) {
          if (isTrackedBy(instance, obj)) live.set(resourceKey(obj), { ref, obj });
        }
      }
    }
    return live;
  }

  async function refForGroupKind(target: Target, group: string, kind: string): Promise<ResourceRef | undefined> {
    const { kube, discovery, preferredVersion } = target;
    const known = preferredVersion.get(group);
    let version = known;
    if (!version) {
      if (group === '') version = 'v1';
      else {
        try {
          const g = await kube.request<{ preferredVersion: { version: string } }>('GET', `/apis/${group}`);
          version = g.preferredVersion.version;
        } catch (err) {
          if (isNotFound(err)) return undefined;
          throw err;
        }
      }
      preferredVersion.set(group, version);
    }
    try {
      return await discovery.resourceFor(group ? `${group}/${version}` : version, kind);
    } catch (err) {
      if (err instanceof UnknownKindError) return undefined;
      throw err;
    }
  }

  const groupKind = (m: ManifestResource) => `${groupOf(m.apiVersion)}|${m.kind}`;

  async function dryRunApply(target: Target, ref: ResourceRef, m: ManifestResource): Promise<ManifestResource> {
    return target.kube.patch<ManifestResource>(ref, m.metadata.namespace, m.metadata.name, m, {
      type: 'apply',
      fieldManager: FIELD_MANAGER,
      force: true,
      dryRun: true,
    });
  }

  function statusOf(m: ManifestResource, ref: ResourceRef | undefined, status: ResourceStatus['status'], health?: ResourceStatus['health']): ResourceStatus {
    const slash = m.apiVersion.indexOf('/');
    return {
      group: groupOf(m.apiVersion),
      version: ref?.version ?? (slash < 0 ? m.apiVersion : m.apiVersion.slice(slash + 1)),
      kind: m.kind,
      namespace: m.metadata.namespace ?? '',
      name: m.metadata.name,
      status,
      ...(health ? { health } : {}),
    };
  }

  async function compare(input: CompareInput, withDiff: boolean): Promise<{ comparison: Comparison; diffs: string[] }> {
    try {
      return await compareOrThrow(input, withDiff);
    } catch (err) {
      if (!isUserError(err)) throw err;
      return {
        comparison: { resources: [], syncStatus: 'Unknown', health: 'Unknown', error: redactURL((err as Error).message), kinds: input.kinds },
        diffs: [],
      };
    }
  }

  async function compareOrThrow(input: CompareInput, withDiff: boolean): Promise<{ comparison: Comparison; diffs: string[] }> {
    const state = await desiredState(input);
    const managed = state.desired.filter((d) => !isHook(d.manifest, { strict: false }) && !isSkipped(d.manifest, { strict: false }));
    const kinds = new Set([...input.kinds, ...managed.filter((d) => d.ref).map((d) => groupKind(d.manifest))]);
    const namespaces = new Set<string>(
      [input.spec.destination?.namespace ?? '', ...managed.map((d) => d.manifest.metadata.namespace ?? '')].filter((n) => n !== ''),
    );
    const live = await liveTracked(
      state.target,
      input.instance,
      kinds,
      namespaces,
      managed,
      input.hard ? undefined : input.known,
      input.freshSinceMs,
      !withDiff && !input.fromServer,
    );
    const liveRefs = [...live.values()].map(({ obj }) => objectRef(obj));
    const resources: ResourceStatus[] = [];
    const diffs: string[] = [];
    for (const d of managed) {
      const key = resourceKey(d.manifest);
      const found = live.get(key);
      live.delete(key);
      if (!d.ref) {
        resources.push(statusOf(d.manifest, undefined, 'OutOfSync', { status: 'Missing', message: d.kindError }));
        continue;
      }
      if (!found) {
        resources.push(statusOf(d.manifest, d.ref, 'OutOfSync', { status: 'Missing' }));
        if (withDiff) diffs.push(unifiedDiff('', stringify(normalizeForDiff(d.manifest)), { from: `${key} (live)`, to: `${key} (git)` }));
        continue;
      }
      // Same desired manifest, same live object version: the dry-run would answer as before.
      const fingerprintOf = (obj: ManifestResource) => {
        const meta = obj.metadata as { uid?: string; resourceVersion?: string };
        return withDiff || input.hard ? undefined : CompareVerdicts.fingerprint(d.manifest, meta.uid, meta.resourceVersion, input.spec.ignoreDifferences);
      };
      let fingerprint = fingerprintOf(found.obj);
      let outOfSync = fingerprint === undefined ? undefined : state.target.verdicts.get(key, fingerprint);
      let target: ManifestResource | undefined;
      let liveCompared: ManifestResource | undefined;
      if (outOfSync === undefined && found.copy) {
        // A full comparison works on the object as the API server has it (managed fields too).
        const fresh = await state.target.kube.find<ManifestResource>(d.ref, d.manifest.metadata.namespace, d.manifest.metadata.name);
        if (!fresh || !isTrackedBy(input.instance, fresh)) {
          resources.push(statusOf(d.manifest, d.ref, 'OutOfSync', { status: 'Missing' }));
          continue;
        }
        found.obj = fresh;
        fingerprint = fingerprintOf(fresh);
        outOfSync = fingerprint === undefined ? undefined : state.target.verdicts.get(key, fingerprint);
      }
      const h = assessHealth(found.obj);
      if (outOfSync === undefined) {
        try {
          target = await dryRunApply(state.target, d.ref, d.manifest);
        } catch (err) {
          if (!failsResource(err)) throw err;
          resources.push(statusOf(d.manifest, d.ref, 'OutOfSync', { status: 'Unknown', message: (err as Error).message }));
          continue;
        }
        const jqPaths = ignoredJqExpressions(found.obj, input.spec.ignoreDifferences);
        target = await jq.strip(target, jqPaths);
        liveCompared = await jq.strip(found.obj, jqPaths);
        outOfSync = differs(target, liveCompared, input.spec.ignoreDifferences);
        if (fingerprint) state.target.verdicts.set(key, fingerprint, outOfSync);
      }
      resources.push(statusOf(d.manifest, d.ref, outOfSync ? 'OutOfSync' : 'Synced', h ?? { status: 'Healthy' }));
      if (withDiff && outOfSync && target && liveCompared) {
        const owned = ignoredFieldSets(found.obj, input.spec.ignoreDifferences);
        diffs.push(
          unifiedDiff(
            stringify(normalizeForDiff(liveCompared, input.spec.ignoreDifferences, owned)),
            stringify(normalizeForDiff(target, input.spec.ignoreDifferences, owned)),
            { from: `${key} (live)`, to: `${key} (git)` },
          ),
        );
      }
    }
    for (const [key, { ref, obj }] of live) {
      if (isHook(obj, { strict: false })) continue; // hooks go by their delete policies
      resources.push({ ...statusOf(obj, ref, 'OutOfSync', assessHealth(obj) ?? { status: 'Healthy' }), requiresPruning: true });
      if (withDiff) diffs.push(unifiedDiff(stringify(normalizeForDiff(obj)), '', { from: `${key} (live)`, to: `${key} (git)` }));
    }
    resources.sort((a, b) => `${a.group}/${a.kind}/${a.namespace}/${a.name}`.localeCompare(`${b.group}/${b.kind}/${b.namespace}/${b.name}`));
    const syncStatus = resources.some((r) => r.status === 'OutOfSync') ? 'OutOfSync' : 'Synced';
    const health = worstHealth(resources.filter((r) => !r.requiresPruning).map((r) => r.health?.status));
    const orphaned = await orphanWarning(state.target, state.project, input.spec);
    return {
      comparison: {
        revision: state.revision,
        resources,
        syncStatus,
        health,
        kinds: [...kinds].sort(),
        live: liveRefs,
        sourceType: state.sourceType,
        ...(state.revisions ? { revisions: state.revisions, sourceTypes: state.sourceTypes } : {}),
        ...(orphaned ? { warnings: [{ type: 'OrphanedResourceWarning', message: orphaned }] } : {}),
      },
      diffs,
    };
  }

  return { compare, desiredState, liveTracked, targetFor, projectFor, groupKind };
}

/** Argo CD's `.argocd-source[-<app>].yaml` in the source path (what Image Updater's git write-back commits), merged into the source. */
function withOverrideFiles<T extends { path?: string; chart?: string }>(tree: string, source: T, appName: string): T {
  if (source.chart) return source;
  const dir = path.join(tree, source.path ?? '');
  const texts = overrideFileNames(appName).map((f) => {
    const p = path.join(dir, f);
    return fs.existsSync(p) && isInside(tree, p) ? fs.readFileSync(p, 'utf8') : undefined;
  });
  return texts.some((t) => t !== undefined) ? withSourceOverrides(source, texts) : source;
}
