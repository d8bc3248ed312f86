// Registry webhooks, as Image Updater reads them: Docker Hub, Harbor, Quay and GHCR
// (GitHub's `package` event) payloads, each reduced to the images (registry/repository)
// and tags that changed. Only a wake-up signal: the check reads the registry itself.

import { parseImageReference } from './reference';

export type RegistryWebhookProvider = 'docker.io' | 'harbor' | 'quay.io' | 'ghcr.io';

export interface RegistryWebhookEvent {
  provider: RegistryWebhookProvider;
  images: { registry: string; repository: string; tag?: string }[];
}

export class RegistryWebhookError extends Error {}

const ref = (name: string, tag?: string) => {
  const r = parseImageReference(name);
  return { registry: r.registry, repository: r.repository, ...((tag ?? r.tag) ? { tag: tag ?? r.tag } : {}) };
};

/** The provider from the `type` query parameter (Image Updater's), or else from the payload's shape. */
export function parseRegistryWebhook(body: unknown, type?: string): RegistryWebhookEvent {
  if (body === null || typeof body !== 'object') throw new RegistryWebhookError('the payload is not a JSON object');
  const b = body as Record<string, any>;
  const provider: RegistryWebhookProvider | undefined =
    (type as RegistryWebhookProvider | undefined) ??
    (b.push_data && b.repository?.repo_name
      ? 'docker.io'
      : b.event_data?.resources
        ? 'harbor'
        : b.docker_url || b.updated_tags
          ? 'quay.io'
          : b.package?.package_version || b.registry_package
            ? 'ghcr.io'
            : undefined);
  switch (provider) {
    case 'docker.io': {
      const name = String(b.repository?.repo_name ?? '');
      if (!name) throw new RegistryWebhookError('Docker Hub payload without repository.repo_name');
      return { provider, images: [ref(`docker.io/${name}`, b.push_data?.tag ? String(b.push_data.tag) : undefined)] };
    }
    case 'harbor': {
      const resources = (b.event_data?.resources ?? []) as { tag?: string; resource_url?: string }[];
      const images = resources.filter((r) => r.resource_url).map((r) => ref(String(r.resource_url).split('@')[0]!, r.tag));
      if (images.length === 0) throw new RegistryWebhookError('Harbor payload without event_data.resources[].resource_url');
      return { provider, images };
    }
    case 'quay.io': {
      const url = String(b.docker_url ?? (b.repository ? `quay.io/${b.repository}` : ''));
      if (!url) throw new RegistryWebhookError('Quay payload without docker_url or repository');
      const tags = Array.isArray(b.updated_tags) && b.updated_tags.length > 0 ? b.updated_tags.map(String) : [undefined];
      return { provider, images: tags.map((t: string | undefined) => ref(url, t)) };
    }
    case 'ghcr.io': {
      const pkg = (b.package ?? b.registry_package) as Record<string, any> | undefined;
      const version = pkg?.package_version as Record<string, any> | undefined;
      const url = String(version?.package_url ?? '');
      if (url) return { provider, images: [ref(url.split('@')[0]!)] };
      const owner = pkg?.owner?.login ?? pkg?.namespace;
      if (!owner || !pkg?.name) throw new RegistryWebhookError('GHCR payload without package.package_version.package_url or package.owner/name');
      const tag = version?.container_metadata?.tag?.name;
      return { provider, images: [ref(`ghcr.io/${String(owner).toLowerCase()}/${pkg.name}`, tag ? String(tag) : undefined)] };
    }
    default:
      throw new RegistryWebhookError(`unknown registry webhook${type ? ` type ${JSON.stringify(type)}` : ' payload'} (docker.io, harbor, quay.io, ghcr.io)`);
  }
}
