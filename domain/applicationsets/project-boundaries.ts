// AppProject boundaries for each generated Application (sourceRepos, destinations, the
// Application's namespace), with the rules domain/projects/boundaries.ts applies to every
// Application. Argo's ApplicationSet controller only checks that the project exists and
// leaves the rest to the Application controller; Sluice refuses a violating Application
// before it is created or updated, and the others of the pass still proceed.
import { checkApplication, type AppProject, type Cluster } from '../projects/boundaries';
import type { ApplicationSpec } from '../applications/types';
import type { GeneratedApplication } from './generate';

export interface BoundaryViolation {
  /** The Application's name. */
  name: string;
  /** `Application <name> violates AppProject <project>: <rule's message>` */
  message: string;
}

export interface ProjectBoundaryInputs {
  /** Each project by name, with the namespace it was found in; undefined: a `default` nobody created (permits all). */
  projects: ReadonlyMap<string, { project: AppProject; namespace: string } | undefined>;
  clusters: readonly Cluster[];
}

export function projectViolations(apps: readonly GeneratedApplication[], inputs: ProjectBoundaryInputs): BoundaryViolation[] {
  const out: BoundaryViolation[] = [];
  for (const app of apps) {
    const projectName = String(app.spec.project ?? '');
    const found = inputs.projects.get(projectName);
    if (!found) continue;
    const result = checkApplication(found.project, app.spec as ApplicationSpec, {
      application: { name: app.metadata.name, namespace: app.metadata.namespace },
      controllerNamespace: found.namespace,
      clusters: [...inputs.clusters],
    });
    if (!result.ok) out.push({ name: app.metadata.name, message: `Application ${app.metadata.name} violates AppProject ${projectName}: ${result.message}` });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
