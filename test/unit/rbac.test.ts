import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { examplesDir } from '../support/paths';
import { appRBACName, argoGlobMatch, enforce, parsePolicy, policyFromConfigMap, subjectFromClaims, type Policy } from '../../domain/rbac/policy';

const examples = examplesDir;

function loadRbacCm(file: string): Record<string, string> {
  const cm = YAML.parse(fs.readFileSync(path.join(examples, 'projects', file), 'utf8')) as { kind: string; data: Record<string, string> };
  assert.equal(cm.kind, 'ConfigMap');
  return cm.data;
}

const teamRoles = () => policyFromConfigMap(loadRbacCm('argocd-rbac-cm.team-roles.yaml'));
const users = () => policyFromConfigMap(loadRbacCm('argocd-rbac-cm.users.yaml'));

const FRONTEND_APP = 'team-frontend/frontend-app';
const BACKEND_APP = 'team-backend/backend-app';

test('both example ConfigMaps load without errors and keep policy.default', () => {
  for (const policy of [teamRoles(), users()]) {
    assert.deepEqual(policy.errors, []);
    assert.equal(policy.defaultRole, 'role:readonly');
    assert.deepEqual(policy.scopes, ['groups']);
  }
  assert.equal(teamRoles().rules.length, 15);
  assert.equal(teamRoles().grouping.length, 3);
  assert.equal(users().rules.length, 4);
});

test('users variant: frontend-dev manages team-frontend apps only', () => {
  const policy = users();
  for (const action of ['get', 'create', 'update', 'delete', 'sync', 'override', 'action/apps/Deployment/restart']) {
    assert.equal(enforce(policy, 'frontend-dev', 'applications', action, FRONTEND_APP), true, action);
  }
  assert.equal(enforce(policy, 'frontend-dev', 'applications', 'sync', BACKEND_APP), false);
  assert.equal(enforce(policy, 'frontend-dev', 'applications', 'delete', BACKEND_APP), false);
  // Viewing the other team's app still works through policy.default.
  assert.equal(enforce(policy, 'frontend-dev', 'applications', 'get', BACKEND_APP), true);
  // The project grant is for applications only.
  assert.equal(enforce(policy, 'frontend-dev', 'projects', 'update', 'team-frontend'), false);
  assert.equal(enforce(policy, 'backend-dev', 'applications', 'sync', BACKEND_APP), true);
  assert.equal(enforce(policy, 'backend-dev', 'applications', 'sync', FRONTEND_APP), false);
});

test("Argo's glob lets * cross '/', so namespaced app objects match project/*", () => {
  const policy = users();
  const otherNs = appRBACName('team-frontend', 'frontend-app', 'frontend-apps');
  assert.equal(otherNs, 'team-frontend/frontend-apps/frontend-app');
  assert.equal(appRBACName('team-frontend', 'frontend-app', 'argocd'), FRONTEND_APP);
  assert.equal(enforce(policy, 'frontend-dev', 'applications', 'sync', otherNs), true);
  assert.equal(enforce(policy, 'frontend-dev', 'applications', 'sync', 'team-backend/frontend-apps/frontend-app'), false);
});

test('users variant: readonly-user and anyone else can get but not sync', () => {
  const policy = users();
  for (const who of ['readonly-user', 'someone-else']) {
    assert.equal(enforce(policy, who, 'applications', 'get', FRONTEND_APP), true);
    assert.equal(enforce(policy, who, 'projects', 'get', 'team-backend'), true);
    assert.equal(enforce(policy, who, 'clusters', 'get', 'https://kubernetes.default.svc'), true);
    assert.equal(enforce(policy, who, 'applications', 'sync', FRONTEND_APP), false);
    assert.equal(enforce(policy, who, 'applications', 'create', BACKEND_APP), false);
    assert.equal(enforce(policy, who, 'repositories', 'create', 'https://git.example.com/x'), false);
    assert.equal(enforce(policy, who, 'exec', 'create', FRONTEND_APP), false);
  }
});

test('without policy.default an unknown user gets nothing', () => {
  const data = { ...loadRbacCm('argocd-rbac-cm.users.yaml') };
  delete data['policy.default'];
  const policy = policyFromConfigMap(data);
  assert.equal(enforce(policy, 'someone-else', 'applications', 'get', FRONTEND_APP), false);
  assert.equal(enforce(policy, 'frontend-dev', 'applications', 'get', BACKEND_APP), false);
  assert.equal(enforce(policy, 'readonly-user', 'applications', 'get', BACKEND_APP), true);
});

test('team-roles variant: SSO groups map to the team roles', () => {
  const policy = teamRoles();
  const alice = { user: 'alice@example.com', groups: ['frontend-team'] };
  for (const action of ['get', 'create', 'update', 'delete', 'sync']) {
    assert.equal(enforce(policy, alice, 'applications', action, FRONTEND_APP), true, action);
  }
  assert.equal(enforce(policy, alice, 'applications', 'sync', BACKEND_APP), false);
  assert.equal(enforce(policy, alice, 'applications', 'get', BACKEND_APP), true);
  assert.equal(enforce(policy, alice, 'applications', 'override', FRONTEND_APP), false);

  const bob = { user: 'bob', groups: ['backend-team', 'unrelated-group'] };
  assert.equal(enforce(policy, bob, 'applications', 'delete', BACKEND_APP), true);
  assert.equal(enforce(policy, bob, 'applications', 'delete', FRONTEND_APP), false);
  // A plain string subject has no groups, so bob alone is only readonly.
  assert.equal(enforce(policy, 'bob', 'applications', 'delete', BACKEND_APP), false);
});

test('team-roles variant: developers get and sync every app but cannot create, delete or update', () => {
  const policy = teamRoles();
  const dev = { user: 'dana', groups: ['developers'] };
  for (const app of [FRONTEND_APP, BACKEND_APP, 'default/sample-app']) {
    assert.equal(enforce(policy, dev, 'applications', 'get', app), true);
    assert.equal(enforce(policy, dev, 'applications', 'sync', app), true);
    assert.equal(enforce(policy, dev, 'applications', 'create', app), false);
    assert.equal(enforce(policy, dev, 'applications', 'delete', app), false);
    assert.equal(enforce(policy, dev, 'applications', 'update', app), false);
  }
});

test('deny wins over allow within one subject, including through inherited roles', () => {
  // Give the frontend team admin as well: role:admin allows override, role:team-frontend denies it.
  const data = { ...loadRbacCm('argocd-rbac-cm.team-roles.yaml'), 'policy.extra.csv': 'g, frontend-team, role:admin\n' };
  const policy = policyFromConfigMap(data);
  assert.deepEqual(policy.errors, []);
  const alice = { user: 'alice', groups: ['frontend-team'] };
  assert.equal(enforce(policy, alice, 'applications', 'override', FRONTEND_APP), false);
  assert.equal(enforce(policy, alice, 'applications', 'override', BACKEND_APP), true);
  assert.equal(enforce(policy, alice, 'clusters', 'create', 'https://x'), true);

  // The developer deny on create does the same against an admin grant on the same subject.
  const devAdmin = policyFromConfigMap({ ...loadRbacCm('argocd-rbac-cm.team-roles.yaml'), 'policy.x.csv': 'g, developers, role:admin' });
  assert.equal(enforce(devAdmin, { user: 'd', groups: ['developers'] }, 'applications', 'create', FRONTEND_APP), false);
  assert.equal(enforce(devAdmin, { user: 'd', groups: ['developers'] }, 'applications', 'override', FRONTEND_APP), true);
});

test("each group is checked on its own: one group's deny does not cancel another's allow", () => {
  // This is Argo CD's claims enforcer: the user, then every group, each a separate Casbin call.
  const policy = teamRoles();
  const both = { user: 'erin', groups: ['developers', 'frontend-team'] };
  assert.equal(enforce(policy, both, 'applications', 'create', FRONTEND_APP), true);
  assert.equal(enforce(policy, both, 'applications', 'create', BACKEND_APP), false);
});

test('groups are consulted only when some g line names them', () => {
  const policy = parsePolicy('p, ops-group, applications, sync, */*, allow\np, mapped-group, applications, sync, */*, allow\ng, mapped-group, role:nothing\n');
  assert.equal(enforce(policy, { user: 'u', groups: ['ops-group'] }, 'applications', 'sync', FRONTEND_APP), false);
  assert.equal(enforce(policy, { user: 'u', groups: ['mapped-group'] }, 'applications', 'sync', FRONTEND_APP), true);
  // As a plain subject the p line applies directly.
  assert.equal(enforce(policy, 'ops-group', 'applications', 'sync', FRONTEND_APP), true);
});

test('role inheritance is transitive', () => {
  const policy = parsePolicy(
    ['p, role:base, applications, sync, team-frontend/*, allow', 'g, role:mid, role:base', 'g, role:top, role:mid', 'g, carol, role:top'].join('\n'),
  );
  assert.equal(enforce(policy, 'carol', 'applications', 'sync', FRONTEND_APP), true);
  assert.equal(enforce(policy, 'carol', 'applications', 'sync', BACKEND_APP), false);
  assert.equal(enforce(policy, 'role:mid', 'applications', 'sync', FRONTEND_APP), true);
  assert.equal(enforce(policy, 'dave', 'applications', 'sync', FRONTEND_APP), false);
});

test('built-in roles: admin does everything, readonly only gets', () => {
  const policy = parsePolicy('g, viewer, role:readonly\ng, boss, role:admin');
  for (const [res, act, obj] of [
    ['applications', 'sync', FRONTEND_APP],
    ['applications', 'action/apps/Deployment/restart', FRONTEND_APP],
    ['applications', 'delete/apps/Deployment/default/x', FRONTEND_APP],
    ['applicationsets', 'create', 'team-frontend/set'],
    ['clusters', 'delete', 'https://prod'],
    ['repositories', 'create', 'https://git.example.com/r'],
    ['projects', 'update', 'team-frontend'],
    ['accounts', 'update', 'frontend-dev'],
    ['certificates', 'create', 'x'],
    ['gpgkeys', 'delete', 'ABC'],
    ['exec', 'create', FRONTEND_APP],
  ] as const) {
    assert.equal(enforce(policy, 'admin', res, act, obj), true, `${res} ${act}`);
    assert.equal(enforce(policy, 'boss', res, act, obj), true, `${res} ${act}`);
    assert.equal(enforce(policy, 'viewer', res, act, obj), false, `${res} ${act}`);
  }
  for (const res of ['applications', 'applicationsets', 'logs']) assert.equal(enforce(policy, 'viewer', res, 'get', FRONTEND_APP), true, res);
  for (const res of ['projects', 'repositories', 'clusters', 'accounts', 'certificates', 'gpgkeys']) {
    assert.equal(enforce(policy, 'viewer', res, 'get', 'anything'), true, res);
  }
  assert.equal(enforce(policy, 'admin', 'logs', 'get', FRONTEND_APP), true);
  assert.equal(enforce(policy, 'viewer', 'exec', 'create', FRONTEND_APP), false);
  // admin has no extensions grant in the built-in policy.
  assert.equal(enforce(policy, 'admin', 'extensions', 'invoke', 'metrics'), false);
});

test('policy.default is consulted first, so a deny on the user cannot remove it', () => {
  const policy = parsePolicy('p, mallory, applications, get, */*, deny', { defaultRole: 'role:readonly' });
  assert.equal(enforce(policy, 'mallory', 'applications', 'get', FRONTEND_APP), true);
  const noDefault = parsePolicy('p, mallory, applications, get, */*, deny\ng, mallory, role:readonly');
  assert.equal(enforce(noDefault, 'mallory', 'applications', 'get', FRONTEND_APP), false);
});

test('malformed lines are reported with their line numbers and skipped', () => {
  const csv = [
    '# comment',
    '',
    '   p, role:ok, applications, get, */*, allow   ',
    'p, role:short, applications, get',
    'g, a, b, c',
    'x, a, b',
    'p, role:bad, applications, get, */*, permit',
    'p, "role:quoted", applications, get, "team-frontend/a,b", allow',
    'p, role:broken", applications, get, */*, allow',
    '    # indented comment',
  ].join('\n');
  const policy = parsePolicy(csv);
  assert.deepEqual(
    policy.errors.map((e) => e.line),
    [4, 5, 6, 7, 9],
  );
  assert.ok(
    policy.errors.every((e) => e.message.startsWith(`policy.csv line ${e.line}: `)),
    policy.errors.map((e) => e.message).join('\n'),
  );
  assert.match(policy.errors[0]!.message, /6 fields/);
  assert.match(policy.errors[3]!.message, /allow or deny/);
  assert.deepEqual(
    policy.rules.map((r) => [r.subject, r.object, r.line]),
    [
      ['role:ok', '*/*', 3],
      ['role:quoted', 'team-frontend/a,b', 8],
    ],
  );
  assert.equal(enforce(policy, 'role:quoted', 'applications', 'get', 'team-frontend/a,b'), true);
  assert.equal(enforce(policy, 'role:bad', 'applications', 'get', FRONTEND_APP), false);
});

test('extra policy.<name>.csv keys are merged and their errors name the key', () => {
  const policy = policyFromConfigMap({
    'policy.csv': 'g, zed, role:readonly',
    'policy.overlay.csv': 'p, zed, applications, sync, team-backend/*, allow\np, zed, oops',
    'policy.default': '',
    'policy.notcsv': 'p, zed, applications, delete, */*, allow',
  });
  assert.equal(enforce(policy, 'zed', 'applications', 'sync', BACKEND_APP), true);
  assert.equal(enforce(policy, 'zed', 'applications', 'delete', BACKEND_APP), false);
  assert.deepEqual(
    policy.errors.map((e) => [e.source, e.line]),
    [['policy.overlay.csv', 2]],
  );
  assert.match(policy.errors[0]!.message, /^policy\.overlay\.csv line 2: /);
});

test('scopes choose which claims carry groups', () => {
  const data = { ...loadRbacCm('argocd-rbac-cm.team-roles.yaml'), scopes: '[groups, email]', 'policy.extra.csv': 'g, ops@example.com, role:developer' };
  const policy = policyFromConfigMap(data);
  assert.deepEqual(policy.scopes, ['groups', 'email']);
  const subject = subjectFromClaims(policy, { sub: 'abc', email: 'ops@example.com', groups: ['nobody'], federated_claims: { user_id: 'ops' } });
  assert.deepEqual(subject, { user: 'ops', groups: ['nobody', 'ops@example.com'] });
  assert.equal(enforce(policy, subject, 'applications', 'sync', BACKEND_APP), true);
  assert.deepEqual(subjectFromClaims(teamRoles(), { sub: 'abc', email: 'ops@example.com' }), { user: 'abc', groups: [] });
  const bad = policyFromConfigMap({ scopes: 'groups: [' });
  assert.equal(bad.errors.length, 1);
  assert.equal(bad.errors[0]!.source, 'scopes');
});

test('regex match mode uses unanchored regular expressions', () => {
  const policy = parsePolicy('p, rex, applications, sync, ^team-front.*$, allow', { matchMode: 'regex' });
  assert.equal(policy.matchMode, 'regex');
  assert.equal(enforce(policy, 'rex', 'applications', 'sync', FRONTEND_APP), true);
  assert.equal(enforce(policy, 'rex', 'applications', 'sync', BACKEND_APP), false);
  const globbed = parsePolicy('p, rex, applications, sync, ^team-front.*$, allow');
  assert.equal(enforce(globbed, 'rex', 'applications', 'sync', FRONTEND_APP), false);
});

test('argoGlobMatch follows gobwas/glob', () => {
  assert.equal(argoGlobMatch('team-*', 'team-a/b'), true);
  assert.equal(argoGlobMatch('team-*', 'team-a/b', '/'), false);
  assert.equal(argoGlobMatch('team-**', 'team-a/b', '/'), true);
  assert.equal(argoGlobMatch('{frontend,backend}-*', 'backend-dev'), true);
  assert.equal(argoGlobMatch('{frontend,backend}-*', 'database-dev'), false);
  assert.equal(argoGlobMatch('app-[!x]', 'app-y'), true);
  assert.equal(argoGlobMatch('app-[!x]', 'app-x'), false);
  assert.equal(argoGlobMatch('app-[0-9]', 'app-7'), true);
  assert.equal(argoGlobMatch('a?c', 'abc'), true);
  assert.equal(argoGlobMatch('a\\*', 'a*'), true);
  assert.equal(argoGlobMatch('a\\*', 'ab'), false);
  // Patterns that do not compile match nothing rather than throwing.
  assert.equal(argoGlobMatch('app-[', 'app-['), false);
  assert.equal(argoGlobMatch('app-[a-cx]', 'app-b'), false);
  // Regex metacharacters are literal.
  assert.equal(argoGlobMatch('a.b', 'axb'), false);
  assert.equal(argoGlobMatch('a.b', 'a.b'), true);
});

test('a policy can be enforced repeatedly and after more rules are added', () => {
  const policy: Policy = parsePolicy('p, kim, applications, get, team-frontend/*, allow', {});
  assert.equal(enforce(policy, 'kim', 'applications', 'sync', FRONTEND_APP), false);
  policy.rules.push({ ...policy.rules[0]!, action: 'sync' });
  assert.equal(enforce(policy, 'kim', 'applications', 'sync', FRONTEND_APP), true);
});
