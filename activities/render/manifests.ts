// YAML and JSON manifests from text: multi-document, `List` kinds flattened, empty
// documents skipped, and every error naming the file and line.
import { parseAllDocuments } from 'yaml';
import type { ManifestResource } from '../../domain/sync/resources';
import { RenderError } from './errors';

function flatten(doc: unknown, where: string, out: ManifestResource[]): void {
  if (doc === null || doc === undefined) return;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new RenderError(`${where}: a manifest must be a mapping with apiVersion and kind`);
  const obj = doc as Record<string, unknown>;
  if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items)) {
    for (const item of obj.items) flatten(item, where, out);
    return;
  }
  if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') throw new RenderError(`${where}: the manifest has no apiVersion or kind`);
  const metadata = (obj.metadata ?? {}) as Record<string, unknown>;
  if (typeof metadata !== 'object' || metadata === null) throw new RenderError(`${where}: metadata is not a mapping`);
  out.push({ ...obj, metadata: { ...metadata } } as ManifestResource);
}

/** Parses one file's text; `file` is the path shown in errors (relative to the repository). */
export function parseManifests(text: string, file: string): ManifestResource[] {
  const out: ManifestResource[] = [];
  if (file.endsWith('.json')) {
    try {
      flatten(JSON.parse(text), file, out);
    } catch (err) {
      if (err instanceof RenderError) throw err;
      throw new RenderError(`${file}: invalid JSON: ${(err as Error).message}`);
    }
    return out;
  }
  const docs = parseAllDocuments(text, { prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    const error = doc.errors[0];
    if (error) {
      const line = error.linePos?.[0].line ?? lineOf(text, error.pos[0]);
      throw new RenderError(`${file}: line ${line}: invalid YAML: ${error.message.split('\n')[0]}`);
    }
    const start = doc.range?.[0] ?? 0;
    flatten(doc.toJS({ maxAliasCount: 100 }), `${file} (document at line ${lineOf(text, start)})`, out);
  }
  return out;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < Math.min(offset, text.length); i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}
