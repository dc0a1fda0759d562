import type { z } from 'zod';
import { problemFromZod } from './problem.ts';

/** Parses `input` with `schema`; a failure becomes a 400 problem naming the field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, where: 'query' | 'path' | 'body' | 'header'): z.infer<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw problemFromZod(r.error, where);
  return r.data;
}
