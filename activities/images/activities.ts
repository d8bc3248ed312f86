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
  envCredentialAllowed,
  imageUpdateConfig,
  type ImageProblem,
  type ImageSpec,
  type ImageUpdateConfig,
  type PullSecretRef,
  type UpdateStrategyName,
  type WriteBack,
} from '../../domain/images/annotations';
import { currentInFile, writeBackFile, type ImageUpdate } from '../../domain/images/git-target';
import { parseRegistries, registryFor, REGISTRIES_CONFIGMAP, REGISTRIES_KEY } from '../../domain/images/registries';
import { registryFingerprint } from '../../domain/images/selection';
import { WriteBackError, type ImageChange } from '../../domain/images/write-back';
import {
  appSourcesOf,
  currentOnSource,
  sourceFor,
  sourceWithOverrides,
  writeKey,
  type AppSources,
  type SourceChoice,
  type UpdatableSource,
} from '../../domain/images/sources';
import { COMMIT_EMAIL_KEY, COMMIT_TEMPLATE_KEY, COMMIT_USER_KEY } from '../../domain/images/commit-message';
import { renderCommitMessage } from './commit-message';
import { changeListDigestInput, writeBranchData, writeBranchName } from '../../domain/images/write-branch';
import { renderGoTemplate } from '../templating/go-template';
import { secretRefusal, type SecretNamer } from '../../domain/images/secret-scope';
import { GitRepositories, type GitCredentials } from '../git';
import { ApplicationFailure } from '@temporalio/activity';
import { whileHeartbeating } from '../heartbeats';
import { imageUpdaterFor, withRecentUpdates, type ImageUpdaterSpec } from '../../domain/images/image-updater';
import { imageConditionIn, withImageCondition, type Condition } from '../../domain/images/condition';
import { gitWriteBack, manifestFiles, type GitWriteBackRequest } from './git-write-back';
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

export function createImageActivities(kube: KubeClient, opts: { git?: GitRepositories; argocdNamespace?: string } = {}) {
  const git = opts.git ?? new GitRepositories();
  const ns = opts.argocdNamespace ?? ARGOCD_NAMESPACE;
  const clients = new Map<string, RegistryClient>();

  async function secret(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const s = await kube.find(Resources.secret, namespace, name);
    return (s as unknown as { data?: Record<string, string> } | undefined)?.data;
  }

  async function registryCredentials(ref: PullSecretRef, registry: string, namer: SecretNamer): Promise<RegistryCredentials> {
    if (ref.kind === 'env') {
      if (!envCredentialAllowed(ref.variable, process.env.SLUICE_IMAGE_CREDENTIAL_ENV))
        throw new Error(`credentials env:${ref.variable} refused: the variable is not listed in the worker's SLUICE_IMAGE_CREDENTIAL_ENV`);
      const v = process.env[ref.variable] ?? '';
      if (v === '') throw new Error(`credentials env:${ref.variable}: the variable is not set on the worker`);
      const i = v.indexOf(':');
      // Never the value in the message: it is a password.
      if (i <= 0 || i === v.length - 1) throw new Error(`credentials env:${ref.variable}: the value is not user:password`);
      return { username: v.slice(0, i), password: v.slice(i + 1) };
    }
    const refused = secretRefusal(ref.namespace, ref.name, namer);
    if (refused) throw new Error(refused);
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
      const refused = secretRefusal(wb.credentials.namespace, wb.credentials.name, { appNamespace: app.metadata.namespace ?? ns, controlPlaneNamespace: ns });
      if (refused) throw new Error(`git credentials: ${refused}`);
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

  /** What the write-back target holds now for each image of one write (one source, one file). */
  async function currentValues(
    app: KubeObject,
    wb: WriteBack,
    source: UpdatableSource,
    choice: SourceChoice,
    specs: ImageSpec[],
  ): Promise<Map<string, string | undefined>> {
    const out = new Map<string, string | undefined>();
    if (wb.method === 'argocd' || !choice.git) {
      for (const s of specs) out.set(s.alias, currentOnSource(source, choice.kind, s));
      return out;
    }
    const loc = choice.git;
    const creds = await gitCredentials(app, wb, loc.repoURL);
    const branch = wb.targetBranch ?? wb.baseBranch ?? loc.targetRevision ?? 'HEAD';
    let sha: string;
    try {
      sha = await git.resolve(loc.repoURL, branch, creds);
    } catch (err) {
      // A target branch not created yet: read the base.
      if (!wb.targetBranch) throw err;
      sha = await git.resolve(loc.repoURL, wb.baseBranch ?? loc.targetRevision ?? 'HEAD', creds);
    }
    const tree = await git.tree(loc.repoURL, sha);
    if (choice.kind === 'directory') {
      const files = manifestFiles(tree, loc.path, !!loc.recurse);
      if (files.length === 0) throw new Error(`no manifests in ${loc.path || '.'}; nothing written`);
      const texts = files.map((f) => fs.readFileSync(path.join(tree, f), 'utf8'));
      for (const s of specs)
        out.set(
          s.alias,
          texts.map((t) => currentFromMarkers(t, s.alias)).find((v) => v !== undefined),
        );
      return out;
    }
    const rel = writeBackFile(loc.target, loc.path, app.metadata.name);
    const file = path.join(tree, rel);
    // A source path (a chart directory) that is not there: name it now rather than fail every write.
    if (!fs.existsSync(path.dirname(file))) throw new Error(`${path.posix.dirname(rel)} does not exist on ${branch}; nothing written`);
    const content = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
    for (const s of specs) out.set(s.alias, currentInFile(loc.target, choice.kind, content, s));
    return out;
  }

  /** The branch a `git-branch` template names for these changes (each from what the base branch holds). */
  async function renderWriteBranch(template: string, current: Map<string, string | undefined>, updates: ImageUpdate[]): Promise<string> {
    const changes = updates.map((u) => ({ alias: u.spec.alias, image: u.spec.image, from: current.get(u.spec.alias), to: u.chosen.digest ?? u.chosen.tag }));
    const sha256 = createHash('sha256').update(changeListDigestInput(changes)).digest('hex');
    let rendered: string;
    try {
      rendered = await renderGoTemplate(template, writeBranchData(changes, sha256), { name: 'branchName' });
    } catch (err) {
      throw ApplicationFailure.nonRetryable(`git-branch template ${JSON.stringify(template)}: ${(err as Error).message}`, 'WriteBackError');
    }
    const named = writeBranchName(rendered, template);
    if ('problem' in named) throw ApplicationFailure.nonRetryable(named.problem, 'WriteBackError');
    return named.branch;
  }

  /** Image Updater's settings ConfigMap (registries.conf, git.commit-message-template, git.user/email): the Application's namespace first, then the control plane's. */
  async function updaterConfig(namespace: string): Promise<Record<string, string> | undefined> {
    return (await updaterConfigMap(namespace))?.data;
  }

  /** The settings ConfigMap's data and the namespace it was found in. */
  async function updaterConfigMap(namespace: string): Promise<{ data?: Record<string, string>; namespace: string } | undefined> {
    for (const n of [namespace, ns]) {
      const cm = await kube.find(Resources.configMap, n, REGISTRIES_CONFIGMAP);
      if (cm) return { data: (cm as unknown as { data?: Record<string, string> }).data, namespace: n };
    }
    return undefined;
  }

  /** The commit author and message template from the settings ConfigMap; the message is rendered by the Go template engine. */
  function commitSettings(data: Record<string, string> | undefined, appName: string): Pick<GitWriteBackRequest, 'author' | 'message'> {
    const user = data?.[COMMIT_USER_KEY]?.trim();
    const email = data?.[COMMIT_EMAIL_KEY]?.trim();
    const template = data?.[COMMIT_TEMPLATE_KEY];
    return {
      ...(user && email ? { author: { name: user, email } } : {}),
      ...(template?.trim() ? { message: (changes: ImageChange[]) => renderCommitMessage(template, appName, changes) } : {}),
    };
  }

  /** Each update's source, by the same decision as the check: one write per source (or per file for git). */
  function planWrites(app: KubeObject, cfg: ImageUpdateConfig, updates: WriteBackInput['updates']) {
    const sources = appSourcesOf(app as unknown as Parameters<typeof appSourcesOf>[0]);
    const writes = new Map<string, { choice: SourceChoice; updates: ImageUpdate[] }>();
    for (const u of updates) {
      const spec = cfg.images.find((s) => s.alias === u.alias);
      if (!spec) continue;
      const d = sourceFor(sources, spec, cfg.writeBack);
      if ('problem' in d) continue;
      const key = writeKey(d);
      if (!writes.has(key)) writes.set(key, { choice: d, updates: [] });
      writes.get(key)!.updates.push({ spec, chosen: { tag: u.tag, ...(u.digest ? { digest: u.digest } : {}) } });
    }
    return { sources, writes };
  }

  /** Write-back `argocd`: parameter overrides on the source(s) taking the images. */
  async function setOverrides(
    input: WriteBackInput,
    app: KubeObject,
    sources: AppSources,
    writes: { choice: SourceChoice; updates: ImageUpdate[] }[],
  ): Promise<WriteBackOutput> {
    const all = writes.flatMap((w) => w.updates);
    const message = `parameter overrides set on the Application: ${all.map((u) => `${u.spec.image.name}:${u.chosen.digest ?? u.chosen.tag}`).join(', ')}`;
    if (!sources.multi) {
      const w = writes[0]!;
      const next = sourceWithOverrides(sources.sources[0]!, w.choice.kind, w.updates);
      const patch = w.choice.kind === 'helm' ? { helm: { parameters: next.helm!.parameters } } : { kustomize: { images: next.kustomize!.images } };
      await kube.patch(Resources.application, input.app.namespace, input.app.name, { spec: { source: patch } }, { fieldManager: FIELD_MANAGER });
      return { committed: true, message };
    }
    // spec.sources is a list: a merge patch replaces it whole, so it is written only over the version it was computed from.
    for (let attempt = 0; attempt < 5; attempt++) {
      const next = sources.sources.map((s, i) => {
        const mine = writes.filter((w) => w.choice.index === i);
        return mine.length === 0
          ? s
          : sourceWithOverrides(
              s,
              mine[0]!.choice.kind,
              mine.flatMap((w) => w.updates),
            );
      });
      try {
        await kube.patch(
          Resources.application,
          input.app.namespace,
          input.app.name,
          { metadata: { resourceVersion: app.metadata.resourceVersion }, spec: { sources: next } },
          { fieldManager: FIELD_MANAGER },
        );
        return { committed: true, message };
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
      const fresh = await readApp(input.app);
      const cfg = fresh && (await configFor(fresh))?.cfg;
      if (!fresh || !cfg) return { committed: false, message: 'the Application no longer asks for image updates' };
      app = fresh;
      const plan = planWrites(fresh, cfg, input.updates);
      sources = plan.sources;
      writes = [...plan.writes.values()];
    }
    throw new Error('the Application kept changing while setting its parameter overrides');
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
      const live = imageConditionIn((app as unknown as { status?: { conditions?: Condition[] } }).status?.conditions);
      const result: ApplicationImageCheck = {
        uid: app.metadata.uid ?? '',
        ...(live !== undefined ? { condition: live } : {}),
        ...(found.imageUpdater ? { imageUpdater: found.imageUpdater } : {}),
        images: [],
        problems,
        writeBack: cfg.writeBack.method,
      };
      // Each image's source (spec.sources[]: the one that can take it); an image no source can take is a problem naming it.
      const sources = appSourcesOf(app as unknown as Parameters<typeof appSourcesOf>[0]);
      const writes = new Map<string, { choice: SourceChoice; specs: ImageSpec[] }>();
      for (const spec of cfg.images) {
        const d = sourceFor(sources, spec, cfg.writeBack);
        if ('problem' in d) {
          problems.push({ alias: spec.alias || spec.image.name, message: d.problem });
          continue;
        }
        const key = writeKey(d);
        if (!writes.has(key)) writes.set(key, { choice: d, specs: [] });
        writes.get(key)!.specs.push(spec);
      }
      // The Application's namespace first (a team's own registries), then the control plane's, as Image Updater reads its own.
      const cm = await updaterConfigMap(ref.namespace);
      const regProblems: string[] = [];
      const registries = parseRegistries(cm?.data?.[REGISTRIES_KEY], regProblems);
      problems.push(...regProblems.map((message) => ({ message })));
      const current = new Map<string, string | undefined>();
      const checked: ImageSpec[] = [];
      for (const { choice, specs } of writes.values()) {
        try {
          const values = await currentValues(app, cfg.writeBack, sources.sources[choice.index ?? 0]!, choice, specs);
          for (const [k, v] of values) current.set(k, v);
          checked.push(...specs);
        } catch (err) {
          // One message for the whole app when it is the only write (as before spec.sources); else per image.
          const message = `reading the write-back target: ${(err as Error).message}`;
          if (writes.size === 1) problems.push({ message });
          else for (const s of specs) problems.push({ alias: s.alias || s.image.name, message });
        }
      }
      for (const spec of cfg.images.filter((s) => checked.includes(s))) {
        const base = { alias: spec.alias, image: spec.image.name, strategy: spec.strategy, current: current.get(spec.alias) };
        try {
          const { settings, repository } = registryFor(spec.image, registries);
          const credRef = spec.pullSecret ?? settings.credentials;
          const namer: SecretNamer = {
            appNamespace: ref.namespace,
            controlPlaneNamespace: ns,
            ...(spec.pullSecret || !cm ? {} : { configNamespace: cm.namespace }),
          };
          const creds = credRef ? await registryCredentials(credRef, spec.image.registry, namer) : undefined;
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
          const choice = await checkImage(client, settings.apiUrl, repository, spec, Date.now(), settings.tagSortMode);
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
      if (!cfg) return { committed: false, message: 'the Application no longer asks for image updates' };
      const { sources, writes } = planWrites(app, cfg, input.updates);
      if (writes.size === 0) return { committed: false, message: 'nothing to write' };
      if (cfg.writeBack.method === 'argocd') return setOverrides(input, app, sources, [...writes.values()]);
      const wb = cfg.writeBack;
      const settings = await updaterConfig(input.app.namespace);
      const messages: string[] = [];
      let committed = false;
      let commit: string | undefined;
      // Sources in different repositories or files: one commit each; each is a no-op once written, so a retry redoes only what is missing.
      for (const { choice, updates } of writes.values()) {
        const loc = choice.git!;
        const base = wb.baseBranch ?? loc.targetRevision ?? 'HEAD';
        const baseBranch = base === 'HEAD' ? 'main' : base;
        const creds = await gitCredentials(app, wb, loc.repoURL);
        const targetBranch = wb.targetBranchTemplate
          ? await renderWriteBranch(
              wb.targetBranchTemplate,
              await currentValues(
                app,
                wb,
                sources.sources[choice.index ?? 0]!,
                choice,
                updates.map((u) => u.spec),
              ),
              updates,
            )
          : (wb.targetBranch ?? baseBranch);
        const res = await whileHeartbeating(() =>
          gitWriteBack(
            {
              repoURL: loc.repoURL,
              baseBranch,
              targetBranch,
              appName: app.metadata.name,
              appPath: loc.path,
              sourceKind: choice.kind,
              target: loc.target,
              updates,
              ...(choice.kind === 'directory' ? { recurse: !!loc.recurse } : {}),
              commitTimeMs: input.commitTimeMs,
              ...commitSettings(settings, app.metadata.name),
            },
            creds,
            { beforePush: holdBeforePush },
          ).catch((err: unknown) => {
            // A target that is not there or not YAML stays so on a retry: fail now, the next check tries again.
            if (err instanceof WriteBackError) throw ApplicationFailure.nonRetryable(err.message, 'WriteBackError');
            throw err;
          }),
        );
        committed ||= res.committed;
        if (res.committed) commit ??= res.commit;
        messages.push(
          res.committed
            ? `committed ${res.commit?.slice(0, 12)} to ${res.file}${res.messageProblem ? ` (${res.messageProblem})` : ''}`
            : `${res.file} already holds these values`,
        );
      }
      return { committed, ...(commit ? { commit } : {}), message: messages.join('; ') };
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
