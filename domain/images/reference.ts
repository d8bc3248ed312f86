// Image references as they appear in image-list entries and in manifests:
// `[registry/]path[:tag][@digest]`. Docker Hub is the default registry and `library/` its
// default namespace, as the Docker CLI and Image Updater resolve them.

export const DOCKER_HUB = 'docker.io';

export interface ImageReference {
  /** The name as written, without tag or digest: what is written back. */
  name: string;
  /** Registry host[:port]; docker.io when the name has none. */
  registry: string;
  /** The repository path on the registry (library/nginx for a bare nginx on Docker Hub). */
  repository: string;
  tag?: string;
  digest?: string;
}

export class ImageReferenceError extends Error {}

/** Whether the first path component names a registry host (Docker's rule). */
const isRegistryHost = (c: string): boolean => c.includes('.') || c.includes(':') || c === 'localhost';

export function parseImageReference(text: string): ImageReference {
  let rest = text.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^[a-z0-9]+:[a-f0-9]{32,}$/.test(digest)) throw new ImageReferenceError(`invalid digest in image ${text}`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (rest === '' || !/^[^\s@"'`\\]+$/.test(rest) || rest.split('/').some((p) => p === ''))
    throw new ImageReferenceError(`invalid image name ${JSON.stringify(text)}`);
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  let path = parts;
  if (parts.length > 1 && isRegistryHost(parts[0]!)) {
    registry = parts[0]!;
    path = parts.slice(1);
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  let repository = path.join('/');
  if (registry === DOCKER_HUB && path.length === 1) repository = `library/${repository}`;
  return { name: rest, registry, repository, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The same image: registry and repository equal, whatever the spelling (nginx = docker.io/library/nginx). */
export function sameImage(a: ImageReference, b: ImageReference): boolean {
  return a.registry === b.registry && a.repository === b.repository;
}

export function formatImage(name: string, tag: string | undefined, digest?: string): string {
  return `${name}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
}
