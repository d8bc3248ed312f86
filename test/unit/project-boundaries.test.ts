import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { examplesDir } from '../support/paths';
import {
  activeWindows,
  checkApplication,
  checkDestination,
  checkResource,
  checkSource,
  matchingWindows,
  orphanedResourceWarning,
  syncAllowed,
  type AppProject,
  type SyncWindow,
  type SyncWindowApp,
} from '../../domain/projects/boundaries';
import type { ApplicationSpec } from '../../domain/applications/types';

const examples = examplesDir;

interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: Record<string, unknown>;
}

function load(file: string): Manifest[] {
  return YAML.parseAllDocuments(fs.readFileSync(path.join(examples, 'projects', file), 'utf8')).map((d) => d.toJS() as Manifest);
}
const project = (file: string, name?: string): AppProject => {
  const p = load(file).find((m) => m.kind === 'AppProject' && (!name || m.metadata.name === name));
  assert.ok(p, `no AppProject in ${file}`);
  return p as AppProject;
};
const appSpec = (file: string): ApplicationSpec => {
  const a = load(file).find((m) => m.kind === 'Application');
  assert.ok(a, `no Application in ${file}`);
  return a.spec as ApplicationSpec;
};
const withSpec = (p: AppProject, extra: Record<string, unknown>): AppProject => ({ ...p, spec: { ...p.spec, ...extra } });

const IN_CLUSTER = 'https://kubernetes.default.svc';

test('frontend-app is allowed in team-frontend and backend-app in team-backend', () => {
  assert.deepEqual(checkApplication(project('team-frontend.yaml'), appSpec('frontend-app.yaml')), { ok: true });
  assert.deepEqual(checkApplication(project('team-backend.yaml'), appSpec('backend-app.yaml')), { ok: true });
});

test('frontend-app pointed at backend-dev is refused, naming the destination rule', () => {
  const spec = appSpec('frontend-app.yaml');
  const moved = { ...spec, destination: { ...spec.destination, namespace: 'backend-dev' } };
  const res = checkApplication(project('team-frontend.yaml'), moved);
  assert.equal(res.ok, false);
  assert.equal(
    !res.ok && res.message,
    `application destination server '${IN_CLUSTER}' and namespace 'backend-dev' do not match any of the allowed destinations in project 'team-frontend'`,
  );
  // The same namespace is fine for team-backend.
  assert.deepEqual(checkDestination(project('team-backend.yaml'), moved.destination!), { ok: true });
  // backend-app in the wrong project fails on the destination only (same repo).
  const wrong = checkApplication(project('team-frontend.yaml'), appSpec('backend-app.yaml'));
  assert.equal(!wrong.ok && wrong.messages.length, 1);
});

test('another repository is refused', () => {
  const spec = appSpec('frontend-app.yaml');
  const other = { ...spec, source: { ...spec.source, repoURL: 'https://github.com/someone/else' } };
  const res = checkApplication(project('team-frontend.yaml'), other);
  assert.equal(!res.ok && res.message, "application repo https://github.com/someone/else is not permitted in project 'team-frontend'");
  assert.deepEqual(checkSource(project('team-frontend.yaml'), 'https://github.com/someone/else'), {
    ok: false,
    message: "application repo https://github.com/someone/else is not permitted in project 'team-frontend'",
  });
  // Both problems are reported together, as Argo lists both conditions.
  const both = checkApplication(project('team-frontend.yaml'), { ...other, destination: { server: IN_CLUSTER, namespace: 'kube-system' } });
  assert.equal(!both.ok && both.messages.length, 2);
});

test('repo URLs are compared normalised: case and .git suffix do not matter', () => {
  const p = project('team-frontend.yaml');
  assert.deepEqual(checkSource(p, 'https://git.example.com/devops/ops-deploy.git'), { ok: true });
  assert.deepEqual(checkSource(p, 'HTTPS://Git.Example.com/DevOps/ops-deploy'), { ok: true });
  assert.equal(checkSource(p, 'https://git.example.com/devops/ops-deploy-fork').ok, false);
});

test("sourceRepos globs stop at '/', and '!' entries deny", () => {
  const shallow = withSpec(project('team-frontend.yaml'), { sourceRepos: ['https://git.example.com/devops/*'] });
  assert.equal(checkSource(shallow, 'https://git.example.com/devops/ops-deploy').ok, true);
  assert.equal(checkSource(shallow, 'https://git.example.com/devops/nested/repo').ok, false);
  assert.equal(checkSource(withSpec(shallow, { sourceRepos: ['https://git.example.com/devops/**'] }), 'https://git.example.com/devops/nested/repo').ok, true);
  const p = withSpec(shallow, { sourceRepos: ['https://git.example.com/devops/*', '!https://git.example.com/devops/secret'] });
  assert.equal(checkSource(p, 'https://git.example.com/devops/ops-deploy').ok, true);
  assert.equal(checkSource(p, 'https://git.example.com/devops/secret').ok, false);
  assert.equal(checkSource(p, 'https://git.example.com/devops/secret.git').ok, false);
  // As in Argo, a '!' entry also grants every repo it does not deny.
  assert.equal(checkSource(p, 'https://git.example.com/devops/nested/repo').ok, true);
  const any = project('sample-app.yaml', 'applications');
  assert.equal(checkSource(any, 'https://anything.example/at/all/depth.git').ok, true);
  assert.equal(checkSource(withSpec(any, { sourceRepos: [] }), 'https://git.example.com/devops/ops-deploy').ok, false);
});

test('destinations: globs, name-based destinations and deny entries', () => {
  const p = project('team-frontend.yaml');
  assert.equal(checkDestination(p, { server: IN_CLUSTER, namespace: 'frontend-prod' }).ok, true);
  assert.equal(checkDestination(p, { server: IN_CLUSTER + '/', namespace: 'dev-nginx' }).ok, true);
  assert.equal(checkDestination(p, { server: IN_CLUSTER, namespace: 'staging-nginx' }).ok, false);
  assert.equal(checkDestination(p, { server: 'https://prod.example.com', namespace: 'frontend-dev' }).ok, false);
  // destination.name resolves through the known clusters (in-cluster by default).
  assert.equal(checkDestination(p, { name: 'in-cluster', namespace: 'frontend-dev' }).ok, true);
  const byName = checkDestination(p, { name: 'in-cluster', namespace: 'backend-dev' });
  assert.equal(
    !byName.ok && byName.message,
    "application destination server 'in-cluster' and namespace 'backend-dev' do not match any of the allowed destinations in project 'team-frontend'",
  );
  assert.equal(!checkDestination(p, { name: 'prod', namespace: 'frontend-dev' }).ok && 'refused', 'refused');
  assert.deepEqual(checkDestination(p, { name: 'in-cluster', server: IN_CLUSTER, namespace: 'frontend-dev' }), {
    ok: false,
    message: `application destination can't have both name and server defined: in-cluster ${IN_CLUSTER}`,
  });
  const denying = withSpec(p, {
    destinations: [
      { server: '*', namespace: '!kube-system' },
      { server: '*', namespace: '*' },
    ],
  });
  assert.equal(checkDestination(denying, { server: IN_CLUSTER, namespace: 'kube-system' }).ok, false);
  assert.equal(checkDestination(denying, { server: IN_CLUSTER, namespace: 'anything' }).ok, true);
});

test('a StatefulSet is refused in team-frontend but allowed in team-backend', () => {
  const sts = { group: 'apps', kind: 'StatefulSet', namespaced: true };
  assert.deepEqual(checkResource(project('team-frontend.yaml'), sts), {
    ok: false,
    message: 'resource apps:StatefulSet is not permitted in project team-frontend',
  });
  assert.deepEqual(checkResource(project('team-backend.yaml'), sts), { ok: true });
  for (const kind of ['Service', 'ConfigMap', 'Secret']) {
    assert.deepEqual(checkResource(project('team-frontend.yaml'), { group: '', kind, namespaced: true }), { ok: true }, kind);
  }
  assert.equal(checkResource(project('team-frontend.yaml'), { group: '', kind: 'PersistentVolumeClaim', namespaced: true }).ok, false);
  assert.equal(checkResource(project('team-backend.yaml'), { group: '', kind: 'PersistentVolumeClaim', namespaced: true }).ok, true);
  // A Deployment from another group is a different resource.
  assert.equal(checkResource(project('team-frontend.yaml'), { group: 'extensions', kind: 'Deployment', namespaced: true }).ok, false);
});

test('Namespace is the only cluster-scoped resource team-frontend allows', () => {
  const p = project('team-frontend.yaml');
  assert.deepEqual(checkResource(p, { group: '', kind: 'Namespace', namespaced: false }), { ok: true });
  assert.deepEqual(checkResource(p, { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole', namespaced: false }), {
    ok: false,
    message: 'resource rbac.authorization.k8s.io:ClusterRole is not permitted in project team-frontend',
  });
  // Without a cluster whitelist nothing cluster-scoped is allowed.
  const none = withSpec(p, { clusterResourceWhitelist: undefined });
  assert.deepEqual(checkResource(none, { group: '', kind: 'Namespace', namespaced: false }), {
    ok: false,
    message: 'resource :Namespace is not permitted in project team-frontend',
  });
});

test('namespace whitelist defaults, blacklists and globs', () => {
  const open = project('sample-app.yaml', 'applications');
  // No namespaceResourceWhitelist: every namespaced kind.
  assert.equal(checkResource(open, { group: 'batch', kind: 'CronJob', namespaced: true }).ok, true);
  // An explicit empty list, unlike an absent one, allows nothing.
  assert.equal(checkResource(withSpec(open, { namespaceResourceWhitelist: [] }), { group: 'batch', kind: 'CronJob', namespaced: true }).ok, false);
  const blacklisted = withSpec(open, {
    namespaceResourceBlacklist: [
      { group: '', kind: 'Secret' },
      { group: '*.k8s.io', kind: '*' },
    ],
  });
  assert.equal(checkResource(blacklisted, { group: '', kind: 'Secret', namespaced: true }).ok, false);
  assert.equal(checkResource(blacklisted, { group: 'networking.k8s.io', kind: 'Ingress', namespaced: true }).ok, false);
  assert.equal(checkResource(blacklisted, { group: '', kind: 'ConfigMap', namespaced: true }).ok, true);
  const globbed = withSpec(open, { namespaceResourceWhitelist: [{ group: 'apps', kind: '*Set' }] });
  assert.equal(checkResource(globbed, { group: 'apps', kind: 'StatefulSet', namespaced: true }).ok, true);
  assert.equal(checkResource(globbed, { group: 'apps', kind: 'Deployment', namespaced: true }).ok, false);
  const clusterBlack = withSpec(open, {
    clusterResourceWhitelist: [{ group: '*', kind: '*' }],
    clusterResourceBlacklist: [{ group: '', kind: 'Namespace', name: 'kube-*' }],
  });
  assert.equal(checkResource(clusterBlack, { group: '', kind: 'Namespace', namespaced: false, name: 'kube-system' }).ok, false);
  assert.equal(checkResource(clusterBlack, { group: '', kind: 'Namespace', namespaced: false, name: 'team-a' }).ok, true);
});

test("a namespaced resource's own namespace must be an allowed destination", () => {
  const p = project('team-frontend.yaml');
  const dest = { server: IN_CLUSTER };
  assert.equal(checkResource(p, { group: '', kind: 'ConfigMap', namespaced: true, namespace: 'frontend-dev', destination: dest }).ok, true);
  assert.deepEqual(checkResource(p, { group: '', kind: 'ConfigMap', namespaced: true, namespace: 'kube-system', destination: dest }), {
    ok: false,
    message: "namespace kube-system is not permitted in project 'team-frontend'",
  });
});

test("sample-app against the 'applications' project: only the default namespace", () => {
  const p = project('sample-app.yaml', 'applications');
  const spec = appSpec('sample-app.yaml');
  assert.deepEqual(checkApplication(p, spec), { ok: true });
  assert.equal(checkApplication(p, { ...spec, destination: { server: IN_CLUSTER, namespace: 'kube-system' } }).ok, false);
  const missing = checkApplication(p, { ...spec, source: { repoURL: 'https://x' } });
  assert.equal(!missing.ok && missing.message, 'spec.source.repoURL and either spec.source.path or spec.source.chart are required');
});

test('apps outside the control-plane namespace need sourceNamespaces', () => {
  const p = project('team-frontend.yaml');
  const spec = appSpec('frontend-app.yaml');
  assert.equal(checkApplication(p, spec, { application: { name: 'frontend-app', namespace: 'argocd' } }).ok, true);
  const res = checkApplication(p, spec, { application: { name: 'frontend-app', namespace: 'frontend-apps' } });
  assert.equal(!res.ok && res.message, "application 'frontend-app' in namespace 'frontend-apps' is not allowed to use project team-frontend");
  assert.equal(
    checkApplication(withSpec(p, { sourceNamespaces: ['frontend-*'] }), spec, { application: { name: 'frontend-app', namespace: 'frontend-apps' } }).ok,
    true,
  );
});

// ---------------------------------------------------------------------------
// Sync windows. Times are UTC; 2025-01-15 is a Wednesday.

const frontendApp: SyncWindowApp = { name: 'frontend-app', namespace: 'frontend-dev', server: IN_CLUSTER };
const at = (iso: string) => new Date(iso);
const windows = (...w: SyncWindow[]) => withSpec(project('team-frontend.yaml'), { syncWindows: w });
const nightlyDeny: SyncWindow = { kind: 'deny', schedule: '0 22 * * *', duration: '1h', applications: ['frontend-*'] };

test('no sync windows: always allowed', () => {
  assert.deepEqual(syncAllowed(project('team-frontend.yaml'), frontendApp, at('2025-01-15T22:30:00Z'), false), { allowed: true });
});

test('an active deny window blocks automated and manual syncs', () => {
  const p = windows(nightlyDeny);
  assert.deepEqual(syncAllowed(p, frontendApp, at('2025-01-15T22:30:00Z'), false), { allowed: false, message: 'Sync operation blocked by sync window' });
  assert.deepEqual(syncAllowed(p, frontendApp, at('2025-01-15T22:30:00Z'), true), { allowed: false, message: 'cannot sync: blocked by sync window' });
  assert.deepEqual(activeWindows(p, frontendApp, at('2025-01-15T22:30:00Z')), [nightlyDeny]);
  // Outside the window there is no restriction, since there are no allow windows.
  assert.deepEqual(syncAllowed(p, frontendApp, at('2025-01-15T23:30:00Z'), false), { allowed: true });
  assert.deepEqual(activeWindows(p, frontendApp, at('2025-01-15T23:30:00Z')), []);
  // Argo counts a window active strictly after its start and strictly before its end.
  assert.equal(syncAllowed(p, frontendApp, at('2025-01-15T22:00:00Z'), false).allowed, true);
  assert.equal(syncAllowed(p, frontendApp, at('2025-01-15T22:00:01Z'), false).allowed, false);
  assert.equal(syncAllowed(p, frontendApp, at('2025-01-15T22:59:59Z'), false).allowed, false);
  assert.equal(syncAllowed(p, frontendApp, at('2025-01-15T23:00:00Z'), false).allowed, true);
});

test('manualSync lets manual syncs through a deny window, never automated ones', () => {
  const p = windows({ ...nightlyDeny, manualSync: true });
  assert.deepEqual(syncAllowed(p, frontendApp, at('2025-01-15T22:30:00Z'), true), { allowed: true });
  assert.equal(syncAllowed(p, frontendApp, at('2025-01-15T22:30:00Z'), false).allowed, false);
  // Every active deny window must allow manual syncs.
  const two = windows({ ...nightlyDeny, manualSync: true }, { kind: 'deny', schedule: '30 21 * * *', duration: '2h', namespaces: ['frontend-*'] });
  assert.equal(syncAllowed(two, frontendApp, at('2025-01-15T22:30:00Z'), true).allowed, false);
});

test('allow windows: only inside them, unless manualSync', () => {
  const businessHours: SyncWindow = { kind: 'allow', schedule: '0 9 * * 1-5', duration: '8h', namespaces: ['frontend-*'] };
  const p = windows(businessHours);
  assert.equal(syncAllowed(p, frontendApp, at('2025-01-15T10:00:00Z'), false).allowed, true);
  assert.deepEqual(syncAllowed(p, frontendApp, at('2025-01-15T18:00:00Z'), false), { allowed: false, message: 'Sync operation blocked by sync window' });
  // Saturday.
  assert.equal(syncAllowed(p, frontendApp, at('2025-01-18T10:00:00Z'), false).allowed, false);
  assert.equal(syncAllowed(p, frontendApp, at('2025-01-18T10:00:00Z'), true).allowed, false);
  assert.equal(syncAllowed(windows({ ...businessHours, manualSync: true }), frontendApp, at('2025-01-18T10:00:00Z'), true).allowed, true);
  // An app the window does not select is unrestricted.
  const other: SyncWindowApp = { name: 'backend-app', namespace: 'backend-dev', server: IN_CLUSTER };
  assert.equal(syncAllowed(p, other, at('2025-01-18T10:00:00Z'), false).allowed, true);
});

test('deny wins over an active allow window', () => {
  const p = windows({ kind: 'allow', schedule: '0 0 * * *', duration: '24h', applications: ['*'] }, nightlyDeny);
  assert.equal(syncAllowed(p, frontendApp, at('2025-01-15T12:00:00Z'), false).allowed, true);
  assert.equal(syncAllowed(p, frontendApp, at('2025-01-15T22:30:00Z'), false).allowed, false);
});

test('window timeZone shifts the schedule to local wall-clock time', () => {
  const p = windows({ ...nightlyDeny, timeZone: 'Europe/Berlin' });
  // Winter: Berlin is UTC+1, so 22:00-23:00 local is 21:00-22:00 UTC.
  assert.equal(syncAllowed(p, frontendApp, at('2025-01-15T21:30:00Z'), false).allowed, false);
  assert.equal(syncAllowed(p, frontendApp, at('2025-01-15T22:30:00Z'), false).allowed, true);
  // Summer: UTC+2.
  assert.equal(syncAllowed(p, frontendApp, at('2025-07-15T20:30:00Z'), false).allowed, false);
  assert.equal(syncAllowed(p, frontendApp, at('2025-07-15T21:30:00Z'), false).allowed, true);
  // An unknown zone falls back to UTC.
  const bogus = windows({ ...nightlyDeny, timeZone: 'Mars/Olympus' });
  assert.equal(syncAllowed(bogus, frontendApp, at('2025-01-15T22:30:00Z'), false).allowed, false);
});

test('window selection by applications, namespaces and clusters, OR by default and AND on request', () => {
  const p = windows(
    { kind: 'deny', schedule: '* * * * *', duration: '1h', applications: ['backend-*'], namespaces: ['frontend-dev'] },
    { kind: 'deny', schedule: '* * * * *', duration: '1h', applications: ['backend-*'], namespaces: ['frontend-dev'], andOperator: true },
    { kind: 'deny', schedule: '* * * * *', duration: '1h', clusters: ['https://kubernetes.*'] },
    { kind: 'deny', schedule: '* * * * *', duration: '1h', clusters: ['in-cluster'] },
    { kind: 'deny', schedule: '* * * * *', duration: '1h', clusters: ['in-cluster'], namespaces: ['frontend-*'], andOperator: true },
  );
  const picked = (app: SyncWindowApp) => matchingWindows(p, app).map((w) => p.spec!.syncWindows!.indexOf(w));
  assert.deepEqual(picked(frontendApp), [0, 2]);
  assert.deepEqual(picked({ name: 'frontend-app', namespace: 'frontend-dev', cluster: 'in-cluster' }), [0, 3, 4]);
  assert.deepEqual(picked({ name: 'backend-app', namespace: 'frontend-dev', cluster: 'in-cluster' }), [0, 1, 3, 4]);
  assert.deepEqual(picked({ name: 'other', namespace: 'other', server: 'https://prod' }), []);
});

test('invalid windows block the sync and say why', () => {
  for (const bad of [{ schedule: '0 25 * * *' }, { schedule: '@daily' }, { schedule: '0 22 * *' }, { duration: '90' }]) {
    const res = syncAllowed(windows({ ...nightlyDeny, ...bad }), frontendApp, at('2025-01-15T12:00:00Z'), false);
    assert.equal(res.allowed, false, JSON.stringify(bad));
    assert.match(res.message ?? '', /invalid sync windows: cannot parse (schedule|duration)/);
  }
  assert.throws(() => activeWindows(windows({ ...nightlyDeny, schedule: 'nope' }), frontendApp, at('2025-01-15T12:00:00Z')), /cannot parse schedule 'nope'/);
});

test('cron details follow the standard 5-field parser', () => {
  // Day names and steps.
  const weekdays = windows({ kind: 'deny', schedule: '*/30 9-17 * * MON-FRI', duration: '10m', applications: ['*'] });
  assert.equal(syncAllowed(weekdays, frontendApp, at('2025-01-15T09:35:00Z'), false).allowed, false);
  assert.equal(syncAllowed(weekdays, frontendApp, at('2025-01-15T09:45:00Z'), false).allowed, true);
  assert.equal(syncAllowed(weekdays, frontendApp, at('2025-01-18T09:35:00Z'), false).allowed, true);
  // Restricted day-of-month and day-of-week: either matches.
  const either = windows({ kind: 'deny', schedule: '0 0 1 * 3', duration: '24h', applications: ['*'] });
  assert.equal(syncAllowed(either, frontendApp, at('2025-01-15T12:00:00Z'), false).allowed, false); // a Wednesday
  assert.equal(syncAllowed(either, frontendApp, at('2025-02-01T12:00:00Z'), false).allowed, false); // the 1st (a Saturday)
  assert.equal(syncAllowed(either, frontendApp, at('2025-01-16T12:00:00Z'), false).allowed, true);
  // A starred day-of-month with a step is ANDed with day-of-week.
  const both = windows({ kind: 'deny', schedule: '0 0 */2 * 3', duration: '24h', applications: ['*'] });
  assert.equal(syncAllowed(both, frontendApp, at('2025-01-15T12:00:00Z'), false).allowed, false); // 15th, odd, Wednesday
  assert.equal(syncAllowed(both, frontendApp, at('2025-01-22T12:00:00Z'), false).allowed, true); // 22nd, even, Wednesday
  assert.equal(syncAllowed(both, frontendApp, at('2025-01-17T12:00:00Z'), false).allowed, true); // odd, Friday
});

test('syncOverrun lets a running operation continue into a deny window', () => {
  const p = windows({ ...nightlyDeny, syncOverrun: true });
  const now = at('2025-01-15T22:30:00Z');
  assert.equal(syncAllowed(p, frontendApp, now, false, at('2025-01-15T21:50:00Z')).allowed, true);
  // Started inside the window: no overrun.
  assert.equal(syncAllowed(p, frontendApp, now, false, at('2025-01-15T22:10:00Z')).allowed, false);
  assert.equal(syncAllowed(windows(nightlyDeny), frontendApp, now, false, at('2025-01-15T21:50:00Z')).allowed, false);
});

// ---------------------------------------------------------------------------
// Orphaned resources

test('orphaned resources warn in team-frontend, skipping defaults and unpermitted kinds', () => {
  const live = [
    { group: 'apps', kind: 'Deployment', name: 'old-frontend', namespace: 'frontend-dev' },
    { kind: 'Service', name: 'leftover', namespace: 'frontend-dev' },
    { kind: 'ConfigMap', name: 'kube-root-ca.crt', namespace: 'frontend-dev' },
    { kind: 'ServiceAccount', name: 'default', namespace: 'frontend-dev' },
    { group: 'apps', kind: 'StatefulSet', name: 'db', namespace: 'frontend-dev' },
  ];
  assert.equal(orphanedResourceWarning(project('team-frontend.yaml'), live), 'Application has 2 orphaned resources');
  // team-backend does not ask for warnings.
  assert.equal(orphanedResourceWarning(project('team-backend.yaml'), live), undefined);
  assert.equal(orphanedResourceWarning(project('team-frontend.yaml'), []), undefined);
  // The group of a built-in kind is inferred when omitted.
  assert.equal(
    orphanedResourceWarning(project('team-frontend.yaml'), [{ kind: 'Deployment', name: 'x', namespace: 'frontend-dev' }]),
    'Application has 1 orphaned resources',
  );
});

test('the ignore list and warn: false silence orphaned resources', () => {
  const p = project('team-frontend.yaml');
  const live = [
    { kind: 'ConfigMap', name: 'istio-ca-root-cert', namespace: 'frontend-dev' },
    { kind: 'Secret', name: 'sh.helm.release.v1.x', namespace: 'frontend-dev' },
    { kind: 'Service', name: 'leftover', namespace: 'frontend-dev' },
  ];
  assert.equal(orphanedResourceWarning(p, live), 'Application has 3 orphaned resources');
  const ignoring = withSpec(p, {
    orphanedResources: {
      warn: true,
      ignore: [
        { kind: 'ConfigMap', name: 'istio-*' },
        { group: '', kind: 'Secret', name: 'sh.helm.release.*' },
      ],
    },
  });
  assert.equal(orphanedResourceWarning(ignoring, live), 'Application has 1 orphaned resources');
  assert.equal(orphanedResourceWarning(withSpec(p, { orphanedResources: { warn: false } }), live), undefined);
  assert.equal(orphanedResourceWarning(withSpec(p, { orphanedResources: {} }), live), undefined);
});
