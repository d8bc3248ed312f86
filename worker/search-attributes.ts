// Sluice's search attributes let Temporal UI filter workflows by kind, namespace,
// name, phase and revision. The dev server registers them at start; on another
// cluster we add them when we may, and run without them when we may not.
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';

export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<boolean> {
  try {
    const listed = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = Object.keys(SEARCH_ATTRIBUTES).filter((k) => !(k in (listed.customAttributes ?? {})));
    if (missing.length === 0) return true;
    const types = temporal.api.enums.v1.IndexedValueType;
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((k) => [k, SEARCH_ATTRIBUTES[k] === 'Int' ? types.INDEXED_VALUE_TYPE_INT : types.INDEXED_VALUE_TYPE_KEYWORD]),
      ),
    });
    return true;
  } catch {
    return false;
  }
}
