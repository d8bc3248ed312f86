// The list generator (generators/list.go): elements as written, then elementsYaml's.
import { parse } from 'yaml';
import { isPlainObject, type Params } from '../params';
import type { Generator } from './generator';

export const listGenerator: Generator = {
  kind: 'list',
  requeueAfterSeconds: () => undefined,
  async generate(spec, { engine }) {
    const res: Params[] = [];
    for (const element of (spec.elements ?? []) as unknown[]) {
      if (!isPlainObject(element)) throw new Error('error unmarshling list element json: cannot unmarshal into Go value of type map[string]interface {}');
      if (engine.goTemplate) {
        res.push(element);
        continue;
      }
      const params: Params = {};
      for (const [key, value] of Object.entries(element)) {
        if (key === 'values') {
          if (!isPlainObject(value)) throw new Error('error parsing values map');
          for (const [k, v] of Object.entries(value)) {
            if (typeof v !== 'string') throw new Error('error parsing value as string %!w(<nil>)');
            params[`values.${k}`] = v;
          }
        } else {
          if (typeof value !== 'string') throw new Error('error parsing value as string %!w(<nil>)');
          params[key] = value;
        }
      }
      res.push(params);
    }
    if (typeof spec.elementsYaml === 'string' && spec.elementsYaml !== '') {
      let parsed: unknown;
      try {
        parsed = parse(spec.elementsYaml, { version: '1.1' });
      } catch (err) {
        throw new Error(`error unmarshling decoded ElementsYaml ${(err as Error).message}`, { cause: err });
      }
      if (parsed !== null && (!Array.isArray(parsed) || !parsed.every(isPlainObject))) {
        throw new Error('error unmarshling decoded ElementsYaml error unmarshaling JSON: cannot unmarshal into Go value of type []map[string]interface {}');
      }
      res.push(...((parsed ?? []) as Params[]));
    }
    return res;
  },
};
