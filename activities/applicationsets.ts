// The I/O of ApplicationSet workflows: generate (git trees, cluster Secrets, AppProjects, the
// Go template engine for goTemplate), create/update/delete the Applications, write status.
// Every step is idempotent: a create that finds the Application, a delete that finds none,
// a status patch written twice all end the same.
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { KubeClient, KubeObject } from '../k8s/kube-client';
import { KubeApiError, Resources, isNotFound } from '../k8s/kube-client';
import { ClusterClients } from '../k8s/clusters';
import { APPSET_REFRESH_ANNOTATION, ARGOCD_NAMESPACE, SECRET_TYPE_LABEL, SLUICE_NAMESPACE } from '../domain/argo/names';
import { renderGoTemplates, type GoTemplateRequest, type GoTemplateResult } from './templating/go-template';
import { GitRepositories, type GitCredentials } from './git';
import { JqPaths } from './jq';
import { whileHeartbeating } from './heartbeats';
import { projectOf } from './project-permissions';
import type { AppProject } from '../domain/projects/boundaries';
import { pickRepoCredentials } from '../domain/applications/source-safety';
import { defaultTemplateEngine } from '../domain/applicationsets/fasttemplate';
import { generateValidated, type GenerationReason, type Outcome } from '../domain/applicationsets/generate';
import { isControlledBy, planApplications, type ApplicationsPlan, type ApplicationUpdate } from '../domain/applicationsets/plan';
import type { ApplicationSet, ClusterSecret, GeneratorSources, GitSnapshot, TemplateEngine } from '../domain/applicationsets/types';
import type { Params } from '../domain/applicationsets/params';
import type { ObjectRef } from '../domain/objects';
import { isRollingSync, rollingSyncOperation, withoutAutomatedSync, type ObservedApplication } from '../domain/applicationsets/rolling-sync';

function specDigest(spec: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(spec ?? {}))
    .digest('hex')
    .slice(0, 16);
}

/** What RollingSync reads of an Application. */
export function observeApplication(a: KubeObject): ObservedApplication {
  const st = (a.status ?? {}) as any;
  const revisions: string[] = st.sync?.revisions ?? (st.sync?.revision ? [st.sync.revision] : []);
  return {
    name: a.metadata.name,
    labels: a.metadata.labels ?? {},
    // The spec itself, not metadata.generation: setting and clearing `operation` bumps that too.
    generation: specDigest(a.spec),
    sync: st.sync?.status,
    health: st.health?.status,
    revisions,
    operationStartedAt: st.operationState?.startedAt,
    operationPhase: st.operationState?.phase,
    hasError: (st.conditions ?? []).some((c: any) => /Error$/.test(c.type ?? '')),
  };
}

/** Renders Go templates (Go text/template with Argo's functions); tests may pass their own. */
export type GoTemplateRenderer = (requests: GoTemplateRequest[]) => Promise<GoTemplateResult[]>;

export function goTemplateEngine(render: GoTemplateRenderer, goTemplateOptions: readonly string[]): TemplateEngine {
  const option = [...goTemplateOptions]
    .reverse()
    .find((o) => o.startsWith('missingkey='))
    ?.slice('missingkey='.length);
  const missingKey = option === 'error' || option === 'zero' ? option : option === 'invalid' || option === 'default' ? 'default' : undefined;
  return {
    goTemplate: true,
    goTemplateOptions,
    async replace(template: string, params: Params, opts?: { missingKeyError?: boolean }): Promise<string> {
      const [r] = await render([
        { template, data: params, options: { missingKey: opts?.missingKeyError ? 'error' : missingKey, functions: 'applicationset' } },
      ]);
      if (!r || 'error' in r) throw new Error(r?.error ?? 'go template: no result');
      return r.output;
    },
  };
}

/** Directories (hidden ones skipped, as Argo's repo server does) and every file of an exported tree. */
function walk(root: string): { directories: string[]; files: string[] } {
  const directories: string[] = [];
  const files: string[] = [];
  const visit = (rel: string, hidden: boolean) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const p = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (e.name === '.git') continue;
        const h = hidden || e.name.startsWith('.');
        if (!h) directories.push(p);
        visit(p, h);
      } else if (e.isFile() || e.isSymbolicLink()) files.push(p);
    }
  };
  visit('', false);
  return { directories: directories.sort(), files: files.sort() };
}

/** GET of a JSON API (SCM providers): status, decoded body (undefined when not JSON) and headers. */
export async function httpGetJSON(url: string, headers: Record<string, string>) {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, headers: Object.fromEntries(res.headers.entries()) };
}

/**
 * What the workflow reads of a generation: whether it failed, and when to look again. The
 * Applications themselves are in the plan; all of them in every pass's result would put
 * hundreds of kilobytes into the history per pass at a thousand Applications.
 */
export type PassOutcome = { generated: number; requeueAfterSeconds?: number } | { error: string; reason: GenerationReason; requeueAfterSeconds?: number };

export interface AppSetPass {
  /** The ApplicationSet is gone, or being deleted. */
  gone?: boolean;
  deleting?: { preserve: boolean; allowsDelete: boolean };
  uid?: string;
  generation?: number;
  outcome?: PassOutcome;
  plan?: ApplicationsPlan;
  /** Applications the ApplicationSet controls, for status.resources and RollingSync. */
  owned?: ObservedApplication[];
  /** Under RollingSync: the operation that syncs each generated Application. */
  syncOperations?: Record<string, Record<string, unknown>>;
  strategy?: ApplicationSet['spec']['strategy'];
}

export interface ApplyResult {
  created: string[];
  updated: string[];
  errors: string[];
}

/** Applications created at once by one apply. */
const CREATE_CONCURRENCY = 20;

export function createApplicationSetActivities(
  kube: KubeClient,
  opts: { repos?: GitRepositories; clusters?: ClusterClients; jq?: JqPaths; goTemplates?: GoTemplateRenderer } = {},
) {
  const repos = opts.repos ?? new GitRepositories();
  const clusters = opts.clusters ?? new ClusterClients(kube);
  const jq = opts.jq ?? new JqPaths();
  const goTemplates = opts.goTemplates ?? ((requests: GoTemplateRequest[]) => renderGoTemplates(requests));
  const walks = new Map<string, { directories: string[]; files: string[] }>();
  // The status each pass read, by ApplicationSet: a status write that would change nothing is
  // skipped (at a thousand Applications, status.resources makes it a large patch every pass).
  // Only this process's own read counts; after a restart the first write goes through.
  const statusRead = new Map<string, { uid?: string; status: Record<string, unknown> }>();
  const refKey = (ref: ObjectRef) => `${ref.namespace}/${ref.name}`;

  async function credentialsFor(namespace: string, repoURL: string): Promise<GitCredentials | undefined> {
    const found: { type: 'repository' | 'repo-creds'; url: string; secret: KubeObject }[] = [];
    for (const ns of new Set([namespace, ARGOCD_NAMESPACE])) {
      try {
        const { items } = await kube.list(Resources.secret, ns, { labelSelector: `${SECRET_TYPE_LABEL} in (repository,repo-creds)` });
        for (const s of items) {
          const data = (s.data ?? {}) as Record<string, string>;
          const url = data.url ? Buffer.from(data.url, 'base64').toString('utf8') : '';
          if (url) found.push({ type: s.metadata.labels?.[SECRET_TYPE_LABEL] === 'repo-creds' ? 'repo-creds' : 'repository', url, secret: s });
        }
      } catch (err) {
        if (!(err instanceof KubeApiError && [403, 404].includes(err.statusCode))) throw err;
      }
    }
    const picked = pickRepoCredentials(repoURL, found);
    if (!picked) return undefined;
    const data = (picked.secret.data ?? {}) as Record<string, string>;
    const text = (k: string) => (data[k] ? Buffer.from(data[k], 'base64').toString('utf8') : undefined);
    return { username: text('username'), password: text('password') };
  }

  function sources(appSet: ApplicationSet): GeneratorSources {
    const namespace = appSet.metadata.namespace ?? '';
    return {
      async git(repoURL, revision): Promise<GitSnapshot> {
        const creds = await credentialsFor(namespace, repoURL);
        const sha = await repos.resolve(repoURL, revision || 'HEAD', creds, { hard: true });
        const root = await repos.tree(repoURL, sha);
        let listing = walks.get(root);
        if (!listing) {
          listing = walk(root);
          if (walks.size > 50) walks.clear();
          walks.set(root, listing);
        }
        return { ...listing, read: (p) => fs.promises.readFile(path.join(root, p), 'utf8') };
      },
      async clusterSecrets(): Promise<ClusterSecret[]> {
        const out: ClusterSecret[] = [];
        const decode = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : undefined);
        for (const ns of new Set([ARGOCD_NAMESPACE, process.env.SLUICE_NAMESPACE || SLUICE_NAMESPACE])) {
          let items: KubeObject[];
          try {
            ({ items } = await kube.list(Resources.secret, ns, { labelSelector: `${SECRET_TYPE_LABEL}=cluster` }));
          } catch (err) {
            if (err instanceof KubeApiError && [403, 404].includes(err.statusCode)) continue;
            throw err;
          }
          for (const s of items) {
            const data = (s.data ?? {}) as Record<string, unknown>;
            out.push({
              name: decode(data.name) ?? '',
              server: decode(data.server) ?? '',
              project: decode(data.project),
              labels: s.metadata.labels ?? {},
              annotations: s.metadata.annotations ?? {},
            });
          }
        }
        return out;
      },
      async projectExists(name) {
        try {
          await projectOf(kube, { namespace, name: '' }, { project: name } as never);
          return true;
        } catch (err) {
          if (err instanceof KubeApiError) throw err;
          return false;
        }
      },
      async configMap(name) {
        const cm = await kube.find(Resources.configMap, ARGOCD_NAMESPACE, name);
        return cm ? ((cm.data ?? {}) as Record<string, string>) : undefined;
      },
      async secretValue(name, key) {
        const secret = await kube.find(Resources.secret, ARGOCD_NAMESPACE, name);
        const v = (secret?.data as Record<string, string> | undefined)?.[key];
        return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
      },
      async callPlugin({ url, token, timeoutSeconds, body }) {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout((timeoutSeconds && timeoutSeconds > 0 ? timeoutSeconds : 30) * 1000),
        });
        const text = await res.text();
        // Never the token: only the status and the start of the answer.
        if (!res.ok) throw new Error(`API error with status code ${res.status}: ${text.slice(0, 200)}`);
        return JSON.parse(text) as unknown;
      },
      httpGetJSON,
      async listResources(ref) {
        const res = { group: ref.group, version: ref.version, plural: ref.plural, namespaced: true };
        const opts = ref.name ? { fieldSelector: `metadata.name=${ref.name}` } : { labelSelector: ref.labelSelector };
        return (await kube.list(res, ARGOCD_NAMESPACE, opts)).items;
      },
    };
  }

  /** jqPathExpressions run by gojq, outside the plan: the views the plan will ask about, stripped ahead. */
  async function jqTable(appSet: ApplicationSet, outcome: Outcome, live: KubeObject[]): Promise<Record<string, unknown>> {
    const asked: { view: Record<string, any>; expressions: readonly string[] }[] = [];
    planApplications(appSet, outcome, live, (view, expressions) => (asked.push({ view, expressions }), view));
    const table: Record<string, unknown> = {};
    for (const { view, expressions } of asked) {
      const key = JSON.stringify([view, expressions]);
      if (key in table) continue;
      const wrapped = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', ...view, metadata: { ...view.metadata, name: 'x', namespace: 'x' } };
      const stripped = (await jq.strip(wrapped as never, expressions)) as any;
      const { name: _n, namespace: _ns, ...metadata } = stripped.metadata ?? {};
      table[key] = { metadata, spec: stripped.spec };
    }
    return table;
  }

  /** Generation and validation of an ApplicationSet, reading git, cluster Secrets and AppProjects. */
  async function generate(appSet: ApplicationSet): Promise<Outcome> {
    const engine = appSet.spec?.goTemplate ? goTemplateEngine(goTemplates, appSet.spec.goTemplateOptions ?? []) : defaultTemplateEngine;
    const known = await clusters.known();
    const ctx = { appSet, engine, sources: sources(appSet) };
    return generateValidated(ctx, async (apps) => {
      const projects = new Set<string>();
      const found = new Map<string, { project: AppProject; namespace: string } | undefined>();
      for (const p of new Set(apps.map((a) => String(a.spec.project ?? '')))) {
        try {
          found.set(p, await projectOf(kube, { namespace: appSet.metadata.namespace ?? '', name: '' }, { project: p } as never));
          projects.add(p);
        } catch (err) {
          // An API error fails the pass; a project that does not exist is a validation problem.
          if (err instanceof KubeApiError) throw err;
        }
      }
      return {
        projects,
        clusterNames: new Set(known.map((c) => c.name)),
        clusterServers: new Set(known.map((c) => c.server)),
        boundaries: { projects: found, clusters: known.map((c) => ({ name: c.name, server: c.server })) },
      };
    });
  }

  return {
    /** The Applications a manifest would produce, applying nothing (`sluice appset generate`). */
    async appSetPreview(input: { appSet: ApplicationSet }): Promise<Outcome> {
      const appSet = { ...input.appSet, metadata: { ...input.appSet.metadata, namespace: input.appSet.metadata?.namespace || ARGOCD_NAMESPACE } };
      return whileHeartbeating(() => generate(appSet));
    },

    /** One pass's reads and decisions: generate, validate, and the plan against the live Applications. */
    async appSetPass(input: { ref: ObjectRef }): Promise<AppSetPass> {
      return whileHeartbeating(async () => {
        const appSet = await kube.find<ApplicationSet>(Resources.applicationSet, input.ref.namespace, input.ref.name);
        statusRead.delete(refKey(input.ref));
        if (!appSet) return { gone: true };
        statusRead.set(refKey(input.ref), { status: ((appSet as { status?: Record<string, unknown> }).status ?? {}) as Record<string, unknown> });
        // The refresh annotation asked for this pass; as Argo, it is removed once read.
        if (appSet.metadata.annotations?.[APPSET_REFRESH_ANNOTATION] !== undefined) {
          await kube.patch(
            Resources.applicationSet,
            input.ref.namespace,
            input.ref.name,
            { metadata: { annotations: { [APPSET_REFRESH_ANNOTATION]: null } } },
            { type: 'merge' },
          );
        }
        const policy = appSet.spec?.syncPolicy?.applicationsSync ?? 'sync';
        const { items } = await kube.list(Resources.application, input.ref.namespace);
        const owned = items.filter((a) => isControlledBy(a, appSet));
        const ownedView = owned.map(observeApplication).sort((a, b) => (a.name < b.name ? -1 : 1));
        if (appSet.metadata.deletionTimestamp) {
          return {
            deleting: { preserve: !!appSet.spec?.syncPolicy?.preserveResourcesOnDeletion, allowsDelete: policy === 'sync' || policy === 'create-delete' },
            uid: appSet.metadata.uid,
            owned: ownedView,
          };
        }
        const generated = await generate(appSet);
        let outcome = generated;
        let syncOperations: Record<string, Record<string, unknown>> | undefined;
        if (isRollingSync(appSet) && 'applications' in generated) {
          syncOperations = Object.fromEntries(generated.applications.map((a) => [a.metadata.name, rollingSyncOperation(a.spec)]));
          outcome = { ...generated, applications: generated.applications.map(withoutAutomatedSync) };
        }
        const wanted = new Set('applications' in outcome ? outcome.applications.map((a) => a.metadata.name) : []);
        const live = items.filter((a) => wanted.has(a.metadata.name) || isControlledBy(a, appSet));
        const hasJq = (appSet.spec.ignoreApplicationDifferences ?? []).some((r) => (r.jqPathExpressions ?? []).length > 0);
        const table = hasJq ? await jqTable(appSet, outcome, live) : {};
        const plan = planApplications(
          appSet,
          outcome,
          live,
          (view, expressions) => (table[JSON.stringify([view, expressions])] as Record<string, any>) ?? view,
        );
        return {
          uid: appSet.metadata.uid,
          generation: appSet.metadata.generation,
          outcome:
            'error' in outcome
              ? outcome
              : {
                  generated: outcome.applications.length,
                  ...(outcome.requeueAfterSeconds !== undefined ? { requeueAfterSeconds: outcome.requeueAfterSeconds } : {}),
                },
          plan,
          owned: ownedView,
          syncOperations,
          strategy: appSet.spec.strategy,
        };
      });
    },

    /** Creates and updates (merge patches) the planned Applications; an error per Application, the others go on. */
    async appSetApply(input: { ref: ObjectRef; create: KubeObject[]; update: ApplicationUpdate[] }): Promise<ApplyResult> {
      return whileHeartbeating(async () => {
        const result: ApplyResult = { created: [], updated: [], errors: [] };
        // A few creates at a time: one by one, a thousand took 24 s against 14 s for the same
        // Applications created 50 at a time. Results keep the plan's order.
        const outcomes: ('created' | 'exists' | string)[] = [];
        for (let i = 0; i < input.create.length; i += CREATE_CONCURRENCY) {
          const batch = input.create.slice(i, i + CREATE_CONCURRENCY);
          const done = await Promise.all(
            batch.map(async (app) => {
              try {
                await kube.create(Resources.application, input.ref.namespace, app);
                return 'created';
              } catch (err) {
                // Already there (a retried activity): the next pass compares and updates it.
                if (err instanceof KubeApiError && err.statusCode === 409) return 'exists';
                return `create Application ${app.metadata.name}: ${(err as Error).message}`;
              }
            }),
          );
          outcomes.push(...done);
        }
        input.create.forEach((app, i) => {
          if (outcomes[i] === 'created') result.created.push(app.metadata.name);
          else if (outcomes[i] !== 'exists') result.errors.push(outcomes[i]!);
        });
        for (const u of input.update) {
          try {
            await kube.patch(Resources.application, input.ref.namespace, u.name, u.patch, { type: 'merge' });
            result.updated.push(u.name);
          } catch (err) {
            result.errors.push(`update Application ${u.name}: ${(err as Error).message}`);
          }
        }
        return result;
      });
    },

    /** Deletes one Application the ApplicationSet controls; what it was, for the history. */
    async appSetDeleteApplication(input: {
      ref: ObjectRef;
      name: string;
      appSetUid?: string;
    }): Promise<{ deleted: boolean; before?: { uid?: string; spec?: unknown } }> {
      const app = await kube.find(Resources.application, input.ref.namespace, input.name);
      if (!app) return { deleted: false };
      const ref = (app.metadata.ownerReferences ?? []).find((r) => r.controller);
      // Only ever an Application this ApplicationSet controls, whatever the plan said when it was made.
      if (!ref || ref.kind !== 'ApplicationSet' || ref.name !== input.ref.name || (input.appSetUid && ref.uid && ref.uid !== input.appSetUid))
        return { deleted: false };
      try {
        await kube.delete(Resources.application, input.ref.namespace, input.name, 'Background');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return { deleted: true, before: { uid: app.metadata.uid, spec: app.spec } };
    },

    /** When deletion must not take the Applications along (a policy without delete): drop our ownerReferences. */
    async appSetOrphanApplications(input: { ref: ObjectRef; appSetUid?: string }): Promise<string[]> {
      const { items } = await kube.list(Resources.application, input.ref.namespace);
      const done: string[] = [];
      for (const app of items) {
        const refs = app.metadata.ownerReferences ?? [];
        const kept = refs.filter(
          (r) => !(r.kind === 'ApplicationSet' && r.name === input.ref.name && (!input.appSetUid || !r.uid || r.uid === input.appSetUid)),
        );
        if (kept.length === refs.length) continue;
        await kube.patch(Resources.application, input.ref.namespace, app.metadata.name, [{ op: 'replace', path: '/metadata/ownerReferences', value: kept }], {
          type: 'json',
        });
        done.push(app.metadata.name);
      }
      return done;
    },

    /** The Applications the ApplicationSet controls, as RollingSync reads them. */
    async appSetObserve(input: { ref: ObjectRef; appSetUid?: string }): Promise<ObservedApplication[]> {
      const { items } = await kube.list(Resources.application, input.ref.namespace);
      const set = { metadata: { name: input.ref.name, uid: input.appSetUid } } as ApplicationSet;
      return items
        .filter((a) => isControlledBy(a, set))
        .map(observeApplication)
        .sort((a, b) => (a.name < b.name ? -1 : 1));
    },

    /**
     * Asks an Application to sync (Argo's `operation`), unless one is already asked for or one
     * started since `requestedAt`: a retry after the operation was taken and cleared must not
     * ask again (the worker killed between the patch and the activity's completion).
     */
    async appSetSyncApplication(input: { ref: ObjectRef; name: string; operation: Record<string, unknown>; requestedAt?: string }): Promise<boolean> {
      const app = await kube.find(Resources.application, input.ref.namespace, input.name);
      if (!app || (app as { operation?: unknown }).operation) return false;
      const startedAt = (app.status as { operationState?: { startedAt?: string } } | undefined)?.operationState?.startedAt;
      if (input.requestedAt && startedAt && startedAt >= input.requestedAt) return false;
      await kube.patch(Resources.application, input.ref.namespace, input.name, { operation: input.operation }, { type: 'merge' });
      return true;
    },

    /** status (conditions, resources, applicationStatus), through the status subresource. */
    async appSetWriteStatus(input: { ref: ObjectRef; status: Record<string, unknown> }): Promise<void> {
      const read = statusRead.get(refKey(input.ref));
      if (read && Object.entries(input.status).every(([k, v]) => isDeepStrictEqual(read.status[k] ?? null, v ?? null))) return;
      try {
        await kube.patch(Resources.applicationSet, input.ref.namespace, input.ref.name, { status: input.status }, { type: 'merge', subresource: 'status' });
        // What the object's status now is, as far as these keys go (merge-patched), for the next write of the same pass.
        if (read) statusRead.set(refKey(input.ref), { status: { ...read.status, ...input.status } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
  };
}

export type ApplicationSetActivities = ReturnType<typeof createApplicationSetActivities>;
