import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { registry } from '../../api/metrics';
import { repoRoot } from '../support/paths';

test('every series the Grafana dashboard queries is one Sluice exports', async () => {
  const dashboard = JSON.parse(fs.readFileSync(path.join(repoRoot, 'api', 'grafana', 'sluice-dashboard.json'), 'utf8'));
  const exported = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
  const queried = new Set<string>();
  for (const panel of dashboard.panels) for (const t of panel.targets) for (const m of t.expr.matchAll(/\bsluice_[a-z_]+/g)) queried.add(m[0]);
  assert.ok(queried.size >= 8, `the dashboard queries ${queried.size} series`);
  for (const name of queried) {
    const base = name.replace(/_(bucket|sum|count)$/, '');
    assert.ok(exported.has(name) || exported.has(base), `the dashboard queries ${name}, which worker/metrics.ts does not export`);
  }
});
