// Registry settings as Image Updater's `registries.conf` (key of a ConfigMap in Sluice's
// namespace): prefix, api_url, credentials, insecure, defaultns, default, limit, tagsortmode.
// An image goes to the registry with the longest matching prefix; without one, to
// https://<host>. `credsexpire` and `ping` are read and have nothing to do here: credentials
// are read anew on every check, and no check pings first (a tag list answers as well).

import { parse } from 'yaml';
import { parsePullSecret, type PullSecretRef } from './annotations';
import { DOCKER_HUB, type ImageReference } from './reference';

export const REGISTRIES_CONFIGMAP = 'argocd-image-updater-config';
export const REGISTRIES_KEY = 'registries.conf';

export interface RegistrySettings {
  name: string;
  prefix: string;
  apiUrl: string;
  credentials?: PullSecretRef;
  insecure: boolean;
  defaultNamespace?: string;
  isDefault: boolean;
  /** Requests per second; undefined = unlimited. */
  rateLimit?: number;
  /** `tagsortmode`: the registry lists tags in push order, so newest-build needs no build times from it. */
  tagSortMode?: TagSortMode;
}

export type TagSortMode = 'latest-first' | 'latest-last';

const truthy = (v: unknown): boolean => v === true || (typeof v === 'string' && ['yes', 'true', '1'].includes(v.toLowerCase()));

/** Parses registries.conf; problems name the entry and the entry is left out. */
export function parseRegistries(text: string | undefined, problems: string[] = []): RegistrySettings[] {
  if (!text) return [];
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    problems.push(`${REGISTRIES_KEY}: invalid YAML: ${(err as Error).message}`);
    return [];
  }
  const list = (doc as { registries?: unknown } | null)?.registries;
  if (!Array.isArray(list)) return [];
  const out: RegistrySettings[] = [];
  for (const [i, raw] of list.entries()) {
    const r = (raw ?? {}) as Record<string, unknown>;
    const name = String(r.name ?? `registries[${i}]`);
    const prefix = typeof r.prefix === 'string' ? r.prefix : '';
    const apiUrl = typeof r.api_url === 'string' ? r.api_url.replace(/\/+$/, '') : '';
    if (!/^https?:\/\/[^\s/]+/.test(apiUrl)) {
      problems.push(`registry ${name}: api_url must be an http(s) URL`);
      continue;
    }
    const s: RegistrySettings = { name, prefix, apiUrl, insecure: truthy(r.insecure), isDefault: truthy(r.default) };
    if (typeof r.credentials === 'string' && r.credentials !== '') {
      try {
        s.credentials = parsePullSecret(r.credentials);
      } catch (err) {
        problems.push(`registry ${name}: ${(err as Error).message}`);
        continue;
      }
    }
    if (typeof r.defaultns === 'string') s.defaultNamespace = r.defaultns;
    const limit = Number(r.limit);
    if (r.limit !== undefined && (!Number.isFinite(limit) || limit <= 0)) {
      problems.push(`registry ${name}: limit must be a positive number of requests per second`);
      continue;
    }
    if (r.limit !== undefined) s.rateLimit = limit;
    const sortMode = r.tagsortmode === undefined || r.tagsortmode === null ? '' : String(r.tagsortmode);
    if (sortMode === 'latest-first' || sortMode === 'latest-last') s.tagSortMode = sortMode;
    else if (sortMode !== '' && sortMode !== 'none' && sortMode !== 'unsorted') {
      problems.push(`registry ${name}: unknown tagsortmode ${JSON.stringify(sortMode)} (latest-first, latest-last, none)`);
      continue;
    }
    out.push(s);
  }
  return out;
}

/** The settings for an image's registry, with the repository path the API uses. */
export function registryFor(image: ImageReference, registries: readonly RegistrySettings[]): { settings: RegistrySettings; repository: string } {
  const matching = registries.filter((r) => r.prefix !== '' && image.registry === r.prefix).sort((a, b) => b.prefix.length - a.prefix.length);
  const explicit = image.name.includes('/') && image.name.split('/')[0] === image.registry;
  let settings = matching[0] ?? (!explicit ? registries.find((r) => r.isDefault) : undefined);
  if (!settings) {
    const apiUrl = image.registry === DOCKER_HUB ? 'https://registry-1.docker.io' : `https://${image.registry}`;
    settings = { name: image.registry, prefix: image.registry, apiUrl, insecure: false, isDefault: false };
  }
  let repository = image.repository;
  // A registry's default namespace applies to one-component names, as library/ does on Docker Hub.
  if (settings.defaultNamespace && !image.name.replace(`${image.registry}/`, '').includes('/'))
    repository = `${settings.defaultNamespace}/${repository.replace(/^library\//, '')}`;
  return { settings, repository };
}
