// Argo's names, and Sluice's own, that objects carry: one place, so a typo is a compile
// error and a reader finds every use. Argo CD's names are spelled as Argo CD spells them
// (common/common.go in argo-cd, gitops-engine's sync/common), Argo Rollouts' as it does.

/** Server-side apply field manager of every write Sluice makes. */
export const FIELD_MANAGER = 'sluice';

// --- Namespaces -------------------------------------------------------------------------

/**
 * Argo CD's control-plane namespace: Applications and AppProjects there are named without
 * their namespace (tracking ids, RBAC objects), repository and cluster Secrets live there.
 */
export const ARGOCD_NAMESPACE = 'argocd';
/** Sluice's own namespace (accounts, RBAC, tokens, cluster Secrets) unless SLUICE_NAMESPACE names another. */
export const SLUICE_NAMESPACE = 'sluice-system';
/** The project an Application names by leaving spec.project empty. */
export const DEFAULT_PROJECT = 'default';

// --- Config maps and secrets ------------------------------------------------------------

/** Argo CD's own secret: `webhook.github.secret`, `webhook.gitlab.secret`. */
export const ARGOCD_SECRET = 'argocd-secret';
/** Sluice's accounts, in argocd-cm's keys (`accounts.<name>`). */
export const SLUICE_CM = 'sluice-cm';
/** Sluice's RBAC policy, in argocd-rbac-cm's keys (`policy.csv`, `policy.default`). */
export const SLUICE_RBAC_CM = 'sluice-rbac-cm';
/** Sluice's API tokens, one key per token id. */
export const SLUICE_TOKENS_SECRET = 'sluice-tokens';

// --- Argo CD annotations ----------------------------------------------------------------

/** `<app>:<group>/<kind>:<namespace>/<name>` on every object an Application manages. */
export const TRACKING_ID_ANNOTATION = 'argocd.argoproj.io/tracking-id';
/** `normal` or `hard` on an Application: compare now (hard: render afresh); removed once done. */
export const REFRESH_ANNOTATION = 'argocd.argoproj.io/refresh';
/** Asks an ApplicationSet to generate again now; removed once read, as Argo does. */
export const APPSET_REFRESH_ANNOTATION = 'argocd.argoproj.io/application-set-refresh';
/** Argo CD's approval of Prune=confirm deletions: an RFC 3339 time on the Application (`argocd app confirm-deletion`). */
export const DELETION_APPROVED_ANNOTATION = 'argocd.argoproj.io/deletion-approved';
export const SYNC_WAVE_ANNOTATION = 'argocd.argoproj.io/sync-wave';
export const HOOK_ANNOTATION = 'argocd.argoproj.io/hook';
export const HOOK_DELETE_POLICY_ANNOTATION = 'argocd.argoproj.io/hook-delete-policy';
/** Per-resource sync options, comma-separated (`Prune=false,ServerSideApply=true`). */
export const SYNC_OPTIONS_ANNOTATION = 'argocd.argoproj.io/sync-options';
/** `true` on a Never/OnFailure Pod: its health is read as long-running (not for hooks, whose completion is their health). */
export const IGNORE_RESTART_POLICY_ANNOTATION = 'argocd.argoproj.io/ignore-restart-policy';

// --- Argo CD labels ---------------------------------------------------------------------

/** `repository`, `repo-creds` or `cluster` on the Secrets Argo CD reads credentials from. */
export const SECRET_TYPE_LABEL = 'argocd.argoproj.io/secret-type';
/** Argo CD's older tracking, by label: the Application's instance name. */
export const INSTANCE_LABEL = 'app.kubernetes.io/instance';
/** On the objects Sluice creates for itself. */
export const PART_OF_LABEL = 'app.kubernetes.io/part-of';

// --- Argo CD finalizers -----------------------------------------------------------------

/** Cascading deletion of an Application (also with a /foreground or /background suffix). */
export const RESOURCES_FINALIZER = 'resources-finalizer.argocd.argoproj.io';
/** On every hook Argo CD creates, so the hook outlives its own completion until observed. */
export const HOOK_FINALIZER = 'argocd.argoproj.io/hook-finalizer';

// --- Argo Rollouts ----------------------------------------------------------------------

/** The hash of a Rollout's pod template, on its ReplicaSets and their pods. */
export const POD_TEMPLATE_HASH_LABEL = 'rollouts-pod-template-hash';
export const REVISION_ANNOTATION = 'rollout.argoproj.io/revision';
export const DESIRED_REPLICAS_ANNOTATION = 'rollout.argoproj.io/desired-replicas';
export const WORKLOAD_GENERATION_ANNOTATION = 'rollout.argoproj.io/workload-generation';
export const EPHEMERAL_METADATA_ANNOTATION = 'rollout.argoproj.io/ephemeral-metadata';
export const SCALE_DOWN_DEADLINE_ANNOTATION = 'argo-rollouts.argoproj.io/scale-down-deadline';
export const MANAGED_BY_ANNOTATION = 'argo-rollouts.argoproj.io/managed-by-rollouts';
/** On an AnalysisRun a Rollout starts: Step, Background, PrePromotion or PostPromotion, and for Step the step's index. */
export const ROLLOUT_TYPE_LABEL = 'rollout-type';
export const STEP_INDEX_LABEL = 'step-index';
/** On a Job metric's Job: the AnalysisRun (uid, name, namespace) and metric it measures. */
export const ANALYSIS_RUN_UID_LABEL = 'analysisrun.argoproj.io/uid';
export const ANALYSIS_RUN_NAME_ANNOTATION = 'analysisrun.argoproj.io/name';
export const ANALYSIS_RUN_NAMESPACE_ANNOTATION = 'analysisrun.argoproj.io/namespace';
export const ANALYSIS_RUN_METRIC_NAME_ANNOTATION = 'analysisrun.argoproj.io/metric-name';

// --- Sluice's own -----------------------------------------------------------------------

/** Marks a hook with the sync that created it, so a retried step does not replace its own hook. */
export const SYNC_OPERATION_ANNOTATION = 'sluice.io/sync-operation';
/** The pod template a ReplicaSet was created from, as JSON, so a rollback restores it exactly. */
export const POD_TEMPLATE_ANNOTATION = 'rollouts.sluice.dev/pod-template';
