// The image update activities: check an Application's images (registry settings and
// credentials read here, never returned: the result goes into workflow history), write the
// chosen values back (git commit or parameter overrides on the Application), and record a
// problem as a Kubernetes Event on the Application.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { isConflict, isNotFound, Resources, type KubeClient, type KubeObject } from '../../k8s/kube-client';
import { ARGOCD_NAMESPACE, SECRET_TYPE_LABEL } from '../../domain/argo/names';
import { pickRepoCredentials } from '../../domain/applications/source-safety';
import {
  IMAGE_LIST_ANNOTATION,
  imageUpdateConfig,
  type ImageProblem,
  type ImageSpec,
  type PullSecretRef,
  type UpdateStrategyName,
  type WriteBack,
} from '../../domain/images/annotations';
import { currentInFile, writeBackFile, type SourceKind } from '../../domain/images/git-target';
import { parseRegistries, registryFor, REGISTRIES_CONFIGMAP, REGISTRIES_KEY } from '../../domain/images/registries';
import { registryFingerprint, valueKey } from '../../domain/images/selection';
import {
  helmParametersFor,
  helmTagIn,
  kustomizeImageFor,
  kustomizeTagIn,
  mergeHelmParameters,
  mergeKustomizeImages,
  WriteBackError,
  type HelmParameter,
} from '../../domain/images/write-back';
import { GitRepositories, type GitCredentials } from '../git';
import { ApplicationFailure } from '@temporalio/activity';
import { whileHeartbeating } from '../heartbeats';
import { imageUpdaterFor, withRecentUpdates, type ImageUpdaterSpec } from '../../domain/images/image-updater';
import { imageConditionIn, withImageCondition, type Condition } from '../../domain/images/condition';
import { gitWriteBack, manifestFiles } from './git-write-back';
import { currentFromMarkers } from '../../domain/images/markers';
import { RegistryClient, type RegistryCredentials } from './registry-client';
import { checkImage, forgetTags } from './tags';

export interface AppRef {
  namespace: string;
  name: string;
}

export interface ImageCheckResult {
  alias: string;
  image: string;
  strategy: UpdateStrategyName;
  /** The tag (and digest for the digest strategy) the strategy picks; undefined when none qualifies. */
  chosen?: { tag: string; digest?: string };
  fingerprint?: string;
  /** What the write-back target holds now (tag, or digest). */
  current?: string;
  reason: string;
  /** Set when this image could not be checked (registry down, credentials refused). */
  error?: string;
}

export interface ApplicationImageCheck {
  uid: string;
  /** The ImageUpdater the settings come from, when not from the Application's annotations. */
  imageUpdater?: string;
  /** The ImageUpdateError condition's message on the Application now, if it has one. */
  condition?: string;
  images: ImageCheckResult[];
  problems: ImageProblem[];
  writeBack: WriteBack['method'];
}

export interface ImageUpdaterReport {
  app: AppRef;
  imageUpdater: string;
  updates: { alias: string; image: string; newVersion: string }[];
  at: string;
}

export interface WriteBackInput {
  app: AppRef;
  updates: { alias: string; tag: string; digest?: string }[];
  commitTimeMs: number;
}

export interface WriteBackOutput {
  committed: boolean;
  commit?: string;
  message: string;
}

export interface ImageEventInput {
  app: AppRef;
  uid: string;
  name: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  at: string;
}

const FIELD_MANAGER = 'sluice-image-updater';

/**
 * Test hook for the worker-kill e2e test: with SLUICE_TEST_HOLD_BEFORE_PUSH=<file>, a git
 * write-back that has committed writes <file> and never pushes, so the test can SIGKILL
 * the worker exactly between commit and push.
 */
async function holdBeforePush(): Promise<void> {
  const file = process.env.SLUICE_TEST_HOLD_BEFORE_PUSH;
  if (!file) return;
  fs.writeFileSync(file, 'committed, not pushed\n');
  await new Promise(() => undefined);
}
const text = (data: Record<string, string> | undefined, k: string): string | undefined =>
  data?.[k] ? Buffer.from(data[k], 'base64').toString('utf8') : undefined;

function sourceOf(app: KubeObject): Record<string, any> | undefined {
  const spec = (app as unknown as { spec?: { source?: Record<string, any>; sources?: Record<string, any>[] } }).spec;
  return spec?.source ?? spec?.sources?.[0];
}

function sourceKind(app: KubeObject, source: Record<string, any>): SourceKind | undefined {
  const t = (app as unknown as { status?: { sourceType?: string } }).status?.sourceType;
  if (source.chart || source.helm || t === 'Helm') return 'helm';
  if (source.kustomize || t === 'Kustomize') return 'kustomize';
  // Plain manifests: the image lines carry marker comments (domain/images/markers.ts).
  if (source.directory || t === 'Directory') return 'directory';
  return undefined;
}

export function createImageActivities(kube: KubeClient, opts: { git?: GitRepositories; argocdNamespace?: string } = {}) {
  const git = opts.git ?? new GitRepositories();
  const ns = opts.argocdNamespace ?? ARGOCD_NAMESPACE;
  const clients = new Map<string, RegistryClient>();

  async function secret(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const s = await kube.find(Resources.secret, namespace, name);
    return (s as unknown as { data?: Record<string, string> } | undefined)?.data;
  }

  async function registryCredentials(ref: PullSecretRef, registry: string): Promise<RegistryCredentials> {
    const data = await secret(ref.namespace, ref.name);
    if (!data) throw new Error(`credentials Secret ${ref.namespace}/${ref.name} not found`);
    if (ref.kind === 'secret') {
      const v = text(data, ref.key) ?? '';
      const i = v.indexOf(':');
      if (i < 0) throw new Error(`key ${ref.key} of Secret ${ref.namespace}/${ref.name} is not user:password`);
      return { username: v.slice(0, i), password: v.slice(i + 1) };
    }
    const cfg = JSON.parse(text(data, '.dockerconfigjson') ?? '{}') as { auths?: Record<string, { username?: string; password?: string; auth?: string }> };
    const entry = Object.entries(cfg.auths ?? {}).find(([k]) => k.replace(/^https?:\/\//, '').split('/')[0] === registry)?.[1];
    if (!entry) throw new Error(`pull secret ${ref.namespace}/${ref.name} has no entry for ${registry}`);
    if (entry.username !== undefined) return { username: entry.username, password: entry.password ?? '' };
    const decoded = Buffer.from(entry.auth ?? '', 'base64').toString('utf8');
    return { username: decoded.slice(0, decoded.indexOf(':')), password: decoded.slice(decoded.indexOf(':') + 1) };
  }

  async function gitCredentials(app: KubeObject, wb: Extract<WriteBack, { method: 'git' }>, repoURL: string): Promise<GitCredentials | undefined> {
    if (wb.credentials.kind === 'secret') {
      const data = await secret(wb.credentials.namespace, wb.credentials.name);
      if (!data) throw new Error(`git credentials Secret ${wb.credentials.namespace}/${wb.credentials.name} not found`);
      return { username: text(data, 'username'), password: text(data, 'password') };
    }
    const found: { type: 'repository' | 'repo-creds'; url: string; data: Record<string, string> }[] = [];
    for (const n of new Set([app.metadata.namespace ?? ns, ns])) {
      const { items } = await kube.list(Resources.secret, n, { labelSelector: `${SECRET_TYPE_LABEL} in (repository,repo-creds)` });
      for (const s of items) {
        const data = ((s as unknown as { data?: Record<string, string> }).data ?? {}) as Record<string, string>;
        const url = text(data, 'url');
        if (url) found.push({ type: s.metadata.labels?.[SECRET_TYPE_LABEL] === 'repo-creds' ? 'repo-creds' : 'repository', url, data });
      }
    }
    const picked = pickRepoCredentials(repoURL, found);
    return picked ? { username: text(picked.data, 'username'), password: text(picked.data, 'password') } : undefined;
  }

  /** What the write-back target holds for each image now. */
  async function currentValues(
    app: KubeObject,
    wb: WriteBack,
    source: Record<string, any>,
    kind: SourceKind,
    specs: ImageSpec[],
  ): Promise<Map<string, string | undefined>> {
    const out = new Map<string, string | undefined>();
    if (kind === 'directory' && wb.method === 'git') {
      const creds = await gitCredentials(app, wb, source.repoURL);
      const sha = await git.resolve(source.repoURL, wb.targetBranch ?? wb.baseBranch ?? source.targetRevision ?? 'HEAD', creds).catch((err: unknown) => {
        if (!wb.targetBranch) throw err;
        return git.resolve(source.repoURL, wb.baseBranch ?? source.targetRevision ?? 'HEAD', creds);
      });
      const tree = await git.tree(source.repoURL, sha);
      const files = manifestFiles(tree, source.path ?? '', !!source.directory?.recurse);
      if (files.length === 0) throw new Error(`no manifests in ${source.path || '.'}; nothing written`);
      const texts = files.map((f) => fs.readFileSync(path.join(tree, f), 'utf8'));
      for (const s of specs)
        out.set(
          s.alias,
          texts.map((t) => currentFromMarkers(t, s.alias)).find((v) => v !== undefined),
        );
      return out;
    }
    if (wb.method === 'argocd') {
      const params = (source.helm?.parameters ?? []) as HelmParameter[];
      const images = (source.kustomize?.images ?? []) as string[];
      for (const s of specs) out.set(s.alias, valueKey(kind === 'helm' ? helmTagIn(params, s) : kustomizeTagIn(images, s)));
      return out;
    }
    const branch = wb.targetBranch ?? wb.baseBranch ?? source.targetRevision ?? 'HEAD';
    const creds = await gitCredentials(app, wb, source.repoURL);
    let sha: string;
    try {
      sha = await git.resolve(source.repoURL, branch, creds);
    } catch (err) {
      // A target branch not created yet: read the base.
      if (!wb.targetBranch) throw err;
      sha = await git.resolve(source.repoURL, wb.baseBranch ?? source.targetRevision ?? 'HEAD', creds);
    }
    const tree = await git.tree(source.repoURL, sha);
    const rel = writeBackFile(wb.target, source.path ?? '', app.metadata.name);
    const file = path.join(tree, rel);
    // A source path (a chart directory) that is not there: name it now rather than fail every write.
    if (!fs.existsSync(path.dirname(file))) throw new Error(`${path.posix.dirname(rel)} does not exist on ${branch}; nothing written`);
    const content = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
    for (const s of specs) out.set(s.alias, currentInFile(wb.target, kind, content, s));
    return out;
  }

  /** The Application's image settings: its own annotations, else those of the ImageUpdater selecting it. */
  async function configFor(app: KubeObject): Promise<{ cfg: NonNullable<ReturnType<typeof imageUpdateConfig>>; imageUpdater?: string } | undefined> {
    if (app.metadata.annotations?.[IMAGE_LIST_ANNOTATION]) {
      const cfg = imageUpdateConfig(app.metadata.annotations);
      return cfg ? { cfg } : undefined;
    }
    const found = imageUpdaterFor(await imageUpdaters(app.metadata.namespace ?? ''), app.metadata);
    const cfg = found ? imageUpdateConfig(found.annotations) : undefined;
    return cfg && found ? { cfg, imageUpdater: found.name } : undefined;
  }

  async function imageUpdaters(namespace: string): Promise<{ name: string; spec?: ImageUpdaterSpec; object: KubeObject }[]> {
    try {
      const { items } = await kube.list(Resources.imageUpdater, namespace);
      return items.map((o) => ({ name: o.metadata.name, spec: (o as unknown as { spec?: ImageUpdaterSpec }).spec, object: o }));
    } catch (err) {
      if (isNotFound(err)) return []; // the CRD is not installed
      throw err;
    }
  }

  async function setImageCondition(input: { app: AppRef; message?: string; at: string }): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const app = await readApp(input.app);
      if (!app) return;
      const live = (app as unknown as { status?: { conditions?: Condition[] } }).status?.conditions;
      if (imageConditionIn(live) === input.message) return;
      try {
        await kube.patch(
          Resources.application,
          input.app.namespace,
          input.app.name,
          { metadata: { resourceVersion: app.metadata.resourceVersion }, status: { conditions: withImageCondition(live, input.message, input.at) } },
          { type: 'merge', subresource: 'status' },
        );
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err)) throw err;
      }
    }
    throw new Error('the Application kept changing while setting its ImageUpdateError condition');
  }

  async function readApp(ref: AppRef): Promise<KubeObject | undefined> {
    return kube.find(Resources.application, ref.namespace, ref.name);
  }

  return {
    async checkApplicationImages(ref: AppRef, opts: { forgetTags?: boolean } = {}): Promise<ApplicationImageCheck | null> {
      const app = await readApp(ref);
      if (!app) return null;
      const found = await configFor(app);
      if (!found) {
        // No longer asking for image updates: the workflow ends, and leaves no condition behind.
        if (imageConditionIn((app as unknown as { status?: { conditions?: Condition[] } }).status?.conditions) !== undefined)
          await setImageCondition({ app: ref, at: new Date().toISOString() });
        return null;
      }
      const { cfg } = found;
      const problems = [...cfg.problems];
      const source = sourceOf(app);
      const kind = source ? sourceKind(app, source) : undefined;
      const live = imageConditionIn((app as unknown as { status?: { conditions?: Condition[] } }).status?.conditions);
      const result: ApplicationImageCheck = {
        uid: app.metadata.uid ?? '',
        ...(live !== undefined ? { condition: live } : {}),
        ...(found.imageUpdater ? { imageUpdater: found.imageUpdater } : {}),
        images: [],
        problems,
        writeBack: cfg.writeBack.method,
      };
      if (!source || !kind) {
        problems.push({ message: 'the Application source is neither Helm, Kustomize nor a plain directory; image updates need one of them' });
        return result;
      }
      if (kind === 'directory' && cfg.writeBack.method !== 'git') {
        problems.push({ message: 'a plain-directory source is updated through marker comments in Git: it needs write-back-method git' });
        return result;
      }
      // The Application's namespace first (a team's own registries), then the control plane's, as Image Updater reads its own.
      const cm =
        (await kube.find(Resources.configMap, ref.namespace, REGISTRIES_CONFIGMAP)) ?? (await kube.find(Resources.configMap, ns, REGISTRIES_CONFIGMAP));
      const regProblems: string[] = [];
      const registries = parseRegistries((cm as unknown as { data?: Record<string, string> } | undefined)?.data?.[REGISTRIES_KEY], regProblems);
      problems.push(...regProblems.map((message) => ({ message })));
      let current: Map<string, string | undefined>;
      try {
        current = await currentValues(app, cfg.writeBack, source, kind, cfg.images);
      } catch (err) {
        problems.push({ message: `reading the write-back target: ${(err as Error).message}` });
        return result;
      }
      for (const spec of cfg.images) {
        const base = { alias: spec.alias, image: spec.image.name, strategy: spec.strategy, current: current.get(spec.alias) };
        try {
          const { settings, repository } = registryFor(spec.image, registries);
          const credRef = spec.pullSecret ?? settings.credentials;
          const creds = credRef ? await registryCredentials(credRef, spec.image.registry) : undefined;
          const key = `${settings.apiUrl}|${createHash('sha256')
            .update(JSON.stringify(creds ?? null))
            .digest('hex')}`;
          let client = clients.get(key);
          if (!client) {
            client = new RegistryClient({
              apiUrl: settings.apiUrl,
              insecure: settings.insecure,
              ...(creds ? { credentials: creds } : {}),
              ...(settings.rateLimit ? { rateLimit: settings.rateLimit } : {}),
            });
            clients.set(key, client);
          }
          if (opts.forgetTags) forgetTags(settings.apiUrl, repository);
          const choice = await checkImage(client, settings.apiUrl, repository, spec, Date.now());
          const chosen = choice.tag
            ? spec.strategy === 'digest' && choice.tag.digest
              ? { tag: choice.tag.name, digest: choice.tag.digest }
              : { tag: choice.tag.name }
            : undefined;
          result.images.push({ ...base, reason: choice.reason, ...(chosen ? { chosen, fingerprint: registryFingerprint(choice.tag!) } : {}) });
        } catch (err) {
          result.images.push({ ...base, reason: 'check failed', error: (err as Error).message });
        }
      }
      return result;
    },

    async writeBackImages(input: WriteBackInput): Promise<WriteBackOutput> {
      const app = await readApp(input.app);
      if (!app) return { committed: false, message: 'the Application is gone' };
      const cfg = (await configFor(app))?.cfg;
      const source = sourceOf(app);
      const kind = source ? sourceKind(app, source) : undefined;
      if (!cfg || !source || !kind) return { committed: false, message: 'the Application no longer asks for image updates' };
      const updates = input.updates.flatMap((u) => {
        const spec = cfg.images.find((s) => s.alias === u.alias);
        return spec ? [{ spec, chosen: { tag: u.tag, ...(u.digest ? { digest: u.digest } : {}) } }] : [];
      });
      if (updates.length === 0) return { committed: false, message: 'nothing to write' };
      if (cfg.writeBack.method === 'argocd') {
        if (kind === 'directory') return { committed: false, message: 'a plain-directory source needs write-back-method git' };
        const patch =
          kind === 'helm'
            ? {
                helm: {
                  parameters: mergeHelmParameters(
                    source.helm?.parameters ?? [],
                    updates.flatMap((u) => helmParametersFor(u.spec, u.chosen)),
                  ),
                },
              }
            : {
                kustomize: {
                  images: mergeKustomizeImages(
                    source.kustomize?.images ?? [],
                    updates.map((u) => kustomizeImageFor(u.spec, u.chosen)),
                  ),
                },
              };
        const spec = (app as unknown as { spec: { source?: unknown } }).spec;
        const body = spec.source
          ? { spec: { source: patch } }
          : { spec: { sources: [{ ...sourceOf(app), ...patch }, ...((spec as { sources: unknown[] }).sources.slice(1) ?? [])] } };
        await kube.patch(Resources.application, input.app.namespace, input.app.name, body, { fieldManager: FIELD_MANAGER });
        return {
          committed: true,
          message: `parameter overrides set on the Application: ${updates.map((u) => `${u.spec.image.name}:${u.chosen.digest ?? u.chosen.tag}`).join(', ')}`,
        };
      }
      const wb = cfg.writeBack;
      const base = wb.baseBranch ?? source.targetRevision ?? 'HEAD';
      const baseBranch = base === 'HEAD' ? 'main' : base;
      const creds = await gitCredentials(app, wb, source.repoURL);
      const res = await whileHeartbeating(() =>
        gitWriteBack(
          {
            repoURL: source.repoURL,
            baseBranch,
            targetBranch: wb.targetBranch ?? baseBranch,
            appName: app.metadata.name,
            appPath: source.path ?? '',
            sourceKind: kind,
            target: wb.target,
            updates,
            ...(kind === 'directory' ? { recurse: !!source.directory?.recurse } : {}),
            commitTimeMs: input.commitTimeMs,
          },
          creds,
          { beforePush: holdBeforePush },
        ).catch((err: unknown) => {
          // A target that is not there or not YAML stays so on a retry: fail now, the next check tries again.
          if (err instanceof WriteBackError) throw ApplicationFailure.nonRetryable(err.message, 'WriteBackError');
          throw err;
        }),
      );
      return {
        committed: res.committed,
        ...(res.commit ? { commit: res.commit } : {}),
        message: res.committed ? `committed ${res.commit?.slice(0, 12)} to ${res.file}` : `${res.file} already holds these values`,
      };
    },

    /**
     * The ImageUpdater's status after one Application's check: how many Applications it
     * selects and images it manages now, this check's time, and the updates just written.
     */
    async reportImageUpdater(input: ImageUpdaterReport): Promise<void> {
      const all = await imageUpdaters(input.app.namespace);
      const cr = all.find((u) => u.name === input.imageUpdater);
      if (!cr) return;
      const { items: apps } = await kube.list(Resources.application, input.app.namespace);
      let matched = 0;
      let images = 0;
      for (const app of apps) {
        const found = imageUpdaterFor(all, app.metadata);
        if (found?.name !== cr.name) continue;
        matched++;
        images += imageUpdateConfig(found.annotations)?.images.length ?? 0;
      }
      const status = ((cr.object as unknown as { status?: Record<string, any> }).status ?? {}) as Record<string, any>;
      const recent = input.updates.map((u) => ({
        ...u,
        applicationsUpdated: 1,
        updatedAt: input.at,
        message: `${input.app.name}: ${u.image} to ${u.newVersion}`,
      }));
      const ready = {
        type: 'Ready',
        status: 'True',
        reason: 'Checked',
        message: `${matched} Application(s) selected, ${images} image(s) managed`,
        lastTransitionTime:
          (status.conditions as { type: string; lastTransitionTime?: string }[] | undefined)?.find((c) => c.type === 'Ready')?.lastTransitionTime ?? input.at,
        observedGeneration: cr.object.metadata.generation ?? 0,
      };
      await kube
        .patch(
          Resources.imageUpdater,
          input.app.namespace,
          cr.name,
          {
            status: {
              observedGeneration: cr.object.metadata.generation ?? 0,
              applicationsMatched: matched,
              imagesManaged: images,
              lastCheckedAt: input.at,
              ...(recent.length > 0 ? { lastUpdatedAt: input.at, recentUpdates: withRecentUpdates(status.recentUpdates, recent) } : {}),
              conditions: [ready],
            },
          },
          { type: 'merge', subresource: 'status', fieldManager: FIELD_MANAGER },
        )
        .catch((err: unknown) => {
          if (!isNotFound(err)) throw err;
        });
    },

    /** Sets (or with no message clears) ImageUpdateError on the Application, unless someone changed it meanwhile (then again from what they wrote). */
    async setImageCondition(input: { app: AppRef; message?: string; at: string }): Promise<void> {
      await setImageCondition(input);
    },

    /** An Event named by the workflow (from its own clock), so a retry finds it instead of adding another. */
    async recordImageEvent(ev: ImageEventInput): Promise<void> {
      try {
        await kube.create(
          Resources.event,
          ev.app.namespace,
          {
            apiVersion: 'v1',
            kind: 'Event',
            metadata: { name: ev.name, namespace: ev.app.namespace },
            involvedObject: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', namespace: ev.app.namespace, name: ev.app.name, uid: ev.uid },
            type: ev.type,
            reason: ev.reason,
            message: ev.message,
            firstTimestamp: ev.at,
            lastTimestamp: ev.at,
            count: 1,
            source: { component: FIELD_MANAGER },
          },
          { fieldManager: FIELD_MANAGER },
        );
      } catch (err) {
        if (isConflict(err) || isNotFound(err)) return;
        throw err;
      }
    },
  };
}

export type ImageActivities = ReturnType<typeof createImageActivities>;
