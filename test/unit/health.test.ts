import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEALTH_ORDER, type KubeObject, assessHealth, hasHealthCheck, isWorse, worstHealth } from '../../domain/health';

function obj(apiVersion: string, kind: string, body: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): KubeObject {
  return { apiVersion, kind, metadata: { name: 'web', namespace: 'shop', generation: 2, ...metadata }, ...body };
}

const deployment = (spec: Record<string, unknown>, status: Record<string, unknown>, metadata: Record<string, unknown> = {}) =>
  obj('apps/v1', 'Deployment', { spec, status }, metadata);

test('Deployment', () => {
  const settled = { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 };
  assert.deepEqual(assessHealth(deployment({ replicas: 3 }, settled)), { status: 'Healthy' });
  assert.deepEqual(assessHealth(deployment({ replicas: 3, paused: true }, { observedGeneration: 1 })), {
    status: 'Suspended',
    message: 'Deployment is paused',
  });
  assert.deepEqual(assessHealth(deployment({ replicas: 3 }, { ...settled, observedGeneration: 1 })), {
    status: 'Progressing',
    message: 'Waiting for rollout to finish: observed deployment generation less than desired generation',
  });
  assert.deepEqual(
    assessHealth(
      deployment(
        { replicas: 3 },
        {
          ...settled,
          updatedReplicas: 1,
          conditions: [
            { type: 'Available', status: 'True' },
            { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' },
          ],
        },
      ),
    ),
    { status: 'Degraded', message: 'Deployment "web" exceeded its progress deadline' },
  );
  assert.deepEqual(assessHealth(deployment({ replicas: 3 }, { ...settled, updatedReplicas: 1 })), {
    status: 'Progressing',
    message: 'Waiting for rollout to finish: 1 out of 3 new replicas have been updated...',
  });
  assert.deepEqual(assessHealth(deployment({ replicas: 3 }, { ...settled, replicas: 5 })), {
    status: 'Progressing',
    message: 'Waiting for rollout to finish: 2 old replicas are pending termination...',
  });
  assert.deepEqual(assessHealth(deployment({ replicas: 3 }, { ...settled, availableReplicas: 2 })), {
    status: 'Progressing',
    message: 'Waiting for rollout to finish: 2 of 3 updated replicas are available...',
  });
  // Only apps/v1 is read; another version of the kind is Unknown, not guessed.
  assert.deepEqual(assessHealth({ ...deployment({ replicas: 3 }, settled), apiVersion: 'apps/v1beta2' }), {
    status: 'Unknown',
    message: 'unsupported Deployment GVK: apps/v1beta2, Kind=Deployment',
  });
  assert.equal(assessHealth({ ...deployment({}, settled), apiVersion: 'extensions/v1beta1' }), undefined);
  const garbled = assessHealth(deployment({ replicas: 'three' }, settled));
  assert.equal(garbled?.status, 'Unknown');
  assert.match(garbled?.message ?? '', /failed to convert unstructured Deployment to typed: spec\.replicas/);
});

test('StatefulSet', () => {
  const sts = (spec: Record<string, unknown>, status: Record<string, unknown>) => obj('apps/v1', 'StatefulSet', { spec, status });
  const ready = { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 3, currentReplicas: 3, currentRevision: 'web-1', updateRevision: 'web-1' };
  assert.deepEqual(assessHealth(sts({ replicas: 3 }, { ...ready, observedGeneration: 0 })), {
    status: 'Progressing',
    message: 'Waiting for statefulset spec update to be observed...',
  });
  assert.deepEqual(assessHealth(sts({ replicas: 3 }, { ...ready, readyReplicas: 1 })), { status: 'Progressing', message: 'Waiting for 2 pods to be ready...' });
  assert.deepEqual(assessHealth(sts({ replicas: 3 }, { ...ready, updateRevision: 'web-2', updatedReplicas: 1 })), {
    status: 'Progressing',
    message: 'waiting for statefulset rolling update to complete 1 pods at revision web-2...',
  });
  assert.deepEqual(assessHealth(sts({ replicas: 3 }, ready)), {
    status: 'Healthy',
    message: 'statefulset rolling update complete 3 pods at revision web-1...',
  });
  const partitioned = { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } };
  assert.deepEqual(assessHealth(sts(partitioned, { ...ready, updatedReplicas: 1, updateRevision: 'web-2' })), {
    status: 'Progressing',
    message: 'Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...',
  });
  assert.deepEqual(assessHealth(sts(partitioned, { ...ready, updatedReplicas: 2, updateRevision: 'web-2' })), {
    status: 'Healthy',
    message: 'partitioned roll out complete: 2 new pods have been updated...',
  });
  assert.deepEqual(assessHealth(sts({ replicas: 3, updateStrategy: { type: 'OnDelete' } }, { ...ready, updateRevision: 'web-2' })), {
    status: 'Healthy',
    message: 'statefulset has 3 ready pods',
  });
});

test('DaemonSet', () => {
  const ds = (spec: Record<string, unknown>, status: Record<string, unknown>) => obj('apps/v1', 'DaemonSet', { spec, status });
  const done = { observedGeneration: 2, desiredNumberScheduled: 4, updatedNumberScheduled: 4, numberAvailable: 4 };
  assert.deepEqual(assessHealth(ds({}, done)), { status: 'Healthy' });
  assert.deepEqual(assessHealth(ds({}, { ...done, observedGeneration: 1 })), {
    status: 'Progressing',
    message: 'Waiting for rollout to finish: observed daemon set generation less than desired generation',
  });
  assert.deepEqual(assessHealth(ds({}, { ...done, updatedNumberScheduled: 1 })), {
    status: 'Progressing',
    message: 'Waiting for daemon set "web" rollout to finish: 1 out of 4 new pods have been updated...',
  });
  assert.deepEqual(assessHealth(ds({}, { ...done, numberAvailable: 3 })), {
    status: 'Progressing',
    message: 'Waiting for daemon set "web" rollout to finish: 3 of 4 updated pods are available...',
  });
  assert.deepEqual(assessHealth(ds({ updateStrategy: { type: 'OnDelete' } }, { ...done, updatedNumberScheduled: 1 })), {
    status: 'Healthy',
    message: 'daemon set 1 out of 4 new pods have been updated',
  });
});

test('ReplicaSet', () => {
  const rs = (status: Record<string, unknown>) => obj('apps/v1', 'ReplicaSet', { spec: { replicas: 2 }, status });
  assert.deepEqual(assessHealth(rs({ observedGeneration: 2, availableReplicas: 2 })), { status: 'Healthy' });
  assert.deepEqual(assessHealth(rs({ observedGeneration: 2, availableReplicas: 1 })), {
    status: 'Progressing',
    message: 'Waiting for rollout to finish: 1 out of 2 new replicas are available...',
  });
  assert.deepEqual(
    assessHealth(rs({ observedGeneration: 2, conditions: [{ type: 'ReplicaFailure', status: 'True', message: 'pods "web-x" is forbidden: exceeded quota' }] })),
    {
      status: 'Degraded',
      message: 'pods "web-x" is forbidden: exceeded quota',
    },
  );
  assert.equal(assessHealth(rs({ observedGeneration: 1, availableReplicas: 2 }))?.status, 'Progressing');
});

test('Service: a LoadBalancer waits for its address', () => {
  const svc = (type: string, status: Record<string, unknown> = {}) => obj('v1', 'Service', { spec: { type }, status });
  assert.deepEqual(assessHealth(svc('ClusterIP')), { status: 'Healthy' });
  assert.deepEqual(assessHealth(svc('NodePort')), { status: 'Healthy' });
  assert.deepEqual(assessHealth(svc('LoadBalancer')), { status: 'Progressing' });
  assert.deepEqual(assessHealth(svc('LoadBalancer', { loadBalancer: { ingress: [] } })), { status: 'Progressing' });
  assert.deepEqual(assessHealth(svc('LoadBalancer', { loadBalancer: { ingress: [{ ip: '10.0.0.9' }] } })), { status: 'Healthy' });
});

test('Ingress: Healthy once an address is published, in either API group', () => {
  for (const apiVersion of ['networking.k8s.io/v1', 'extensions/v1beta1']) {
    assert.deepEqual(assessHealth(obj(apiVersion, 'Ingress', { status: { loadBalancer: { ingress: [{ hostname: 'lb.example.com' }] } } })), {
      status: 'Healthy',
    });
    assert.deepEqual(assessHealth(obj(apiVersion, 'Ingress', { status: { loadBalancer: {} } })), { status: 'Progressing' });
    assert.deepEqual(assessHealth(obj(apiVersion, 'Ingress')), { status: 'Progressing' });
  }
});

test('PersistentVolumeClaim follows its phase', () => {
  const pvc = (phase?: string) => obj('v1', 'PersistentVolumeClaim', { status: phase ? { phase } : {} });
  assert.deepEqual(assessHealth(pvc('Bound')), { status: 'Healthy' });
  assert.deepEqual(assessHealth(pvc('Pending')), { status: 'Progressing' });
  assert.deepEqual(assessHealth(pvc('Lost')), { status: 'Degraded' });
  assert.deepEqual(assessHealth(pvc()), { status: 'Unknown' });
});

test('Job', () => {
  const job = (conditions: unknown[]) => obj('batch/v1', 'Job', { status: { conditions } });
  assert.deepEqual(assessHealth(job([])), { status: 'Progressing' });
  assert.deepEqual(assessHealth(job([{ type: 'Complete', status: 'True', message: 'done' }])), { status: 'Healthy', message: 'done' });
  assert.deepEqual(
    assessHealth(job([{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }])),
    {
      status: 'Degraded',
      message: 'Job has reached the specified backoff limit',
    },
  );
  assert.deepEqual(assessHealth(job([{ type: 'Suspended', status: 'True', message: 'Job suspended' }])), { status: 'Suspended', message: 'Job suspended' });
  // Argo CD's quirk, kept: a Suspended condition that is False (a resumed Job) ends the wait.
  assert.deepEqual(assessHealth(job([{ type: 'Suspended', status: 'False', message: 'Job resumed' }])), { status: 'Healthy', message: 'Job resumed' });
});

test('Pod', () => {
  const pod = (restartPolicy: string | undefined, status: Record<string, unknown>, annotations?: Record<string, string>) =>
    obj('v1', 'Pod', { spec: restartPolicy ? { restartPolicy } : {}, status }, annotations ? { annotations } : {});
  const ready = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'app', state: { running: {} } }] };
  const notReady = { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: [{ name: 'app', state: { running: {} } }] };
  const crashLoop = {
    phase: 'Running',
    containerStatuses: [
      { name: 'app', state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container' } } },
      { name: 'sidecar', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x:1"' } } },
    ],
  };

  assert.deepEqual(assessHealth(pod('Always', ready)), { status: 'Healthy' });
  assert.deepEqual(assessHealth(pod('Always', notReady)), { status: 'Progressing' });
  assert.deepEqual(assessHealth(pod('Always', crashLoop)), {
    status: 'Degraded',
    message: 'back-off 5m0s restarting failed container, Back-off pulling image "x:1"',
  });
  assert.deepEqual(
    assessHealth(pod('Always', { ...notReady, message: 'restarting', containerStatuses: [{ name: 'app', lastState: { terminated: { exitCode: 1 } } }] })),
    {
      status: 'Degraded',
      message: 'restarting',
    },
  );
  assert.deepEqual(assessHealth(pod('Always', { phase: 'Pending', message: 'Unschedulable' })), { status: 'Progressing', message: 'Unschedulable' });

  // Pods meant to finish (hooks, usually) are never Degraded while they run, and Healthy only when done.
  assert.deepEqual(assessHealth(pod('Never', crashLoop)), { status: 'Progressing' });
  assert.deepEqual(assessHealth(pod('OnFailure', ready)), { status: 'Progressing' });
  assert.deepEqual(assessHealth(pod('Never', { phase: 'Succeeded' })), { status: 'Healthy' });
  assert.deepEqual(assessHealth(pod('Never', { phase: 'Failed', containerStatuses: [{ name: 'app', state: { terminated: { exitCode: 2 } } }] })), {
    status: 'Degraded',
    message: 'container "app" failed with exit code 2',
  });
  assert.deepEqual(
    assessHealth(pod('Never', { phase: 'Failed', initContainerStatuses: [{ name: 'init', state: { terminated: { reason: 'OOMKilled', exitCode: 137 } } }] })),
    {
      status: 'Degraded',
      message: 'OOMKilled',
    },
  );
  assert.deepEqual(assessHealth(pod('Never', { phase: 'Failed', message: 'The node was low on resource: memory.' })), {
    status: 'Degraded',
    message: 'The node was low on resource: memory.',
  });

  // ignore-restart-policy makes a Never Pod long-running, except for hooks.
  const ignore = { 'argocd.argoproj.io/ignore-restart-policy': 'true' };
  assert.deepEqual(assessHealth(pod('Never', ready, ignore)), { status: 'Healthy' });
  assert.deepEqual(assessHealth(pod('Never', crashLoop, ignore))?.status, 'Degraded');
  assert.deepEqual(assessHealth(pod('Never', ready, { ...ignore, 'argocd.argoproj.io/hook': 'PreSync' })), { status: 'Progressing' });

  assert.deepEqual(assessHealth(pod(undefined, ready)), { status: 'Unknown' }, 'no restart policy: Argo CD cannot tell');
  assert.deepEqual(assessHealth(pod('Always', { phase: 'Unknown' })), { status: 'Unknown' });
});

test('HorizontalPodAutoscaler', () => {
  const v2 = (conditions: unknown[]) => obj('autoscaling/v2', 'HorizontalPodAutoscaler', { status: { conditions } });
  assert.deepEqual(assessHealth(v2([])), { status: 'Progressing', message: 'Waiting to Autoscale' });
  assert.deepEqual(assessHealth(v2([{ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'ok' }])), {
    status: 'Healthy',
    message: 'ok',
  });
  assert.deepEqual(
    assessHealth(
      v2([
        { type: 'ScalingActive', status: 'False', reason: 'FailedGetResourceMetric', message: 'no metrics' },
        { type: 'AbleToScale', status: 'True' },
      ]),
    ),
    {
      status: 'Degraded',
      message: 'no metrics',
    },
  );
  const v1 = (annotation?: string) =>
    obj(
      'autoscaling/v1',
      'HorizontalPodAutoscaler',
      {},
      annotation === undefined ? {} : { annotations: { 'autoscaling.alpha.kubernetes.io/conditions': annotation } },
    );
  assert.deepEqual(assessHealth(v1()), { status: 'Progressing', message: 'Waiting to Autoscale' });
  assert.deepEqual(assessHealth(v1('[{"type":"AbleToScale","status":"True","message":"fine"}]')), { status: 'Healthy', message: 'fine' });
  assert.equal(assessHealth(v1('not json'))?.status, 'Unknown');
});

test('APIService', () => {
  const api = (conditions: unknown[]) => obj('apiregistration.k8s.io/v1', 'APIService', { status: { conditions } });
  assert.deepEqual(assessHealth(api([])), { status: 'Progressing', message: 'Waiting to be processed' });
  assert.deepEqual(assessHealth(api([{ type: 'Available', status: 'True', reason: 'Passed', message: 'all checks passed' }])), {
    status: 'Healthy',
    message: 'Passed: all checks passed',
  });
  assert.deepEqual(assessHealth(api([{ type: 'Available', status: 'False', reason: 'MissingEndpoints', message: 'no endpoints' }])), {
    status: 'Progressing',
    message: 'MissingEndpoints: no endpoints',
  });
});

test('argoproj.io Workflow follows its phase', () => {
  const wf = (phase?: string) => obj('argoproj.io/v1alpha1', 'Workflow', { status: phase ? { phase, message: 'm' } : {} });
  assert.deepEqual(assessHealth(wf()), { status: 'Progressing' });
  assert.deepEqual(assessHealth(wf('Running')), { status: 'Progressing', message: 'm' });
  assert.deepEqual(assessHealth(wf('Succeeded')), { status: 'Healthy', message: 'm' });
  assert.deepEqual(assessHealth(wf('Error')), { status: 'Degraded', message: 'm' });
});

test('Rollout: its own phase once the spec is observed', () => {
  const rollout = (
    status: Record<string, unknown> | undefined,
    spec: Record<string, unknown> = { replicas: 3, strategy: { canary: {} } },
    metadata: Record<string, unknown> = {},
  ) => obj('argoproj.io/v1alpha1', 'Rollout', status === undefined ? { spec } : { spec, status }, metadata);
  const waiting = { status: 'Progressing', message: 'Waiting for rollout spec update to be observed' };
  assert.deepEqual(assessHealth(rollout(undefined)), waiting);
  assert.deepEqual(assessHealth(rollout({ observedGeneration: '1', phase: 'Healthy' })), waiting);
  assert.deepEqual(assessHealth(rollout({ observedGeneration: '2', phase: 'Healthy' })), { status: 'Healthy' });
  assert.deepEqual(assessHealth(rollout({ observedGeneration: 2, phase: 'Paused', message: 'CanaryPauseStep' })), {
    status: 'Suspended',
    message: 'CanaryPauseStep',
  });
  assert.deepEqual(assessHealth(rollout({ observedGeneration: 2, phase: 'Degraded', message: 'RolloutAborted: Rollout aborted update to revision 2' })), {
    status: 'Degraded',
    message: 'RolloutAborted: Rollout aborted update to revision 2',
  });
  assert.deepEqual(assessHealth(rollout({ observedGeneration: 2, phase: 'Progressing', message: 'more replicas need to be updated' })), {
    status: 'Progressing',
    message: 'more replicas need to be updated',
  });
  assert.equal(assessHealth(rollout({ observedGeneration: 2, phase: 'Exploded' }))?.status, 'Unknown');
  // A workloadRef Rollout also waits for the referenced Deployment's generation to be observed.
  const workloadSpec = { replicas: 3, workloadRef: { kind: 'Deployment', name: 'web' }, strategy: { canary: {} } };
  const annotations = { annotations: { 'rollout.argoproj.io/workload-generation': '4' } };
  assert.deepEqual(assessHealth(rollout({ observedGeneration: 2, workloadObservedGeneration: '3', phase: 'Healthy' }, workloadSpec, annotations)), waiting);
  assert.deepEqual(assessHealth(rollout({ observedGeneration: 2, workloadObservedGeneration: '4', phase: 'Healthy' }, workloadSpec, annotations)), {
    status: 'Healthy',
  });
  // A hash in observedGeneration is a pre-v0.10 controller: treated as observed.
  assert.deepEqual(assessHealth(rollout({ observedGeneration: '7d6c9f', phase: 'Healthy' })), { status: 'Healthy' });
});

test('Rollout without a phase (controllers before v1.0)', () => {
  const canary = { replicas: 3, strategy: { canary: { steps: [] } } };
  const blueGreen = { replicas: 3, strategy: { blueGreen: { activeService: 'web' } } };
  const rollout = (spec: Record<string, unknown>, status: Record<string, unknown>) =>
    obj('argoproj.io/v1alpha1', 'Rollout', { spec, status: { observedGeneration: 2, ...status } });
  const done = { currentPodHash: 'abc', stableRS: 'abc', replicas: 3, updatedReplicas: 3, availableReplicas: 3 };
  assert.deepEqual(assessHealth(rollout(canary, done)), { status: 'Healthy' });
  assert.deepEqual(assessHealth(rollout(canary, { ...done, conditions: [{ type: 'InvalidSpec', message: 'bad spec' }] })), {
    status: 'Degraded',
    message: 'bad spec',
  });
  assert.deepEqual(assessHealth(rollout(canary, { ...done, conditions: [{ type: 'Progressing', reason: 'RolloutAborted', message: 'Rollout is aborted' }] })), {
    status: 'Degraded',
    message: 'Rollout is aborted',
  });
  assert.deepEqual(assessHealth(rollout(canary, { ...done, pauseConditions: [{ reason: 'CanaryPauseStep' }] })), {
    status: 'Suspended',
    message: 'Rollout is paused',
  });
  assert.deepEqual(assessHealth(rollout(canary, { replicas: 3 })), {
    status: 'Progressing',
    message: 'Waiting for rollout to finish: status has not been reconciled.',
  });
  assert.deepEqual(assessHealth(rollout(canary, { ...done, updatedReplicas: 1 })), {
    status: 'Progressing',
    message: 'Waiting for roll out to finish: More replicas need to be updated',
  });
  assert.deepEqual(assessHealth(rollout(canary, { ...done, availableReplicas: 2 })), {
    status: 'Progressing',
    message: 'Waiting for roll out to finish: updated replicas are still becoming available',
  });
  assert.deepEqual(assessHealth(rollout(canary, { ...done, replicas: 4 })), {
    status: 'Progressing',
    message: 'Waiting for roll out to finish: old replicas are pending termination',
  });
  assert.deepEqual(assessHealth(rollout(canary, { ...done, stableRS: 'old' })), { status: 'Progressing', message: 'Waiting for rollout to finish steps' });
  assert.deepEqual(assessHealth(rollout(blueGreen, { ...done, blueGreen: { activeSelector: 'old' } })), {
    status: 'Progressing',
    message: 'active service cutover pending',
  });
  assert.deepEqual(assessHealth(rollout(blueGreen, { ...done, blueGreen: { activeSelector: 'abc' } })), { status: 'Healthy' });
});

test('Application reports its own health', () => {
  const app = (status?: Record<string, unknown>) => obj('argoproj.io/v1alpha1', 'Application', status ? { status } : {});
  assert.deepEqual(assessHealth(app()), { status: 'Progressing' });
  assert.deepEqual(assessHealth(app({ health: { status: 'Healthy' } })), { status: 'Healthy' });
  assert.deepEqual(assessHealth(app({ health: { status: 'Degraded', message: 'child failed' } })), { status: 'Degraded', message: 'child failed' });
  assert.deepEqual(assessHealth(app({ health: { status: 'Suspended' } })), { status: 'Suspended' });
  assert.equal(assessHealth(app({ health: {} }))?.status, 'Unknown');
});

test('kinds without a health check have none; deleting objects are Progressing unless a hook finalizer holds them', () => {
  assert.equal(assessHealth(obj('v1', 'ConfigMap')), undefined);
  assert.equal(assessHealth(obj('v1', 'Secret')), undefined);
  assert.equal(assessHealth(obj('argoproj.io/v1alpha1', 'AppProject')), undefined);
  assert.equal(hasHealthCheck('apps/v1', 'Deployment'), true);
  assert.equal(hasHealthCheck('v1', 'ConfigMap'), false);
  assert.deepEqual(assessHealth(obj('v1', 'ConfigMap', {}, { deletionTimestamp: '2024-01-01T00:00:00Z' })), {
    status: 'Progressing',
    message: 'Pending deletion',
  });
  const finishedHook = obj(
    'batch/v1',
    'Job',
    { status: { conditions: [{ type: 'Complete', status: 'True' }] } },
    { deletionTimestamp: '2024-01-01T00:00:00Z', finalizers: ['argocd.argoproj.io/hook-finalizer'] },
  );
  assert.deepEqual(assessHealth(finishedHook), { status: 'Healthy' });
});

test('health order: Healthy < Suspended < Progressing < Missing < Degraded < Unknown', () => {
  assert.deepEqual(HEALTH_ORDER, ['Healthy', 'Suspended', 'Progressing', 'Missing', 'Degraded', 'Unknown']);
  assert.equal(worstHealth([]), 'Healthy');
  assert.equal(worstHealth([undefined, { status: 'Healthy' }]), 'Healthy');
  assert.equal(worstHealth(['Healthy', 'Suspended']), 'Suspended');
  assert.equal(worstHealth(['Suspended', 'Progressing', 'Healthy']), 'Progressing');
  assert.equal(worstHealth([{ status: 'Degraded', message: 'x' }, 'Missing', 'Progressing']), 'Degraded');
  assert.equal(worstHealth(['Degraded', 'Unknown']), 'Unknown');
  assert.equal(isWorse('Progressing', 'Missing'), true);
  assert.equal(isWorse('Missing', 'Progressing'), false);
  assert.equal(isWorse('Degraded', 'Degraded'), false);
});
