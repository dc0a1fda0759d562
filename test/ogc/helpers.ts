import type { Express } from 'express';
import request from 'supertest';
import { expect } from 'vitest';
import { testApp } from '../helpers/test-app.ts';
import type { Db } from '../../server/db/types.ts';
import { seedOgcData, type SeedOptions } from './seed.ts';

export interface OgcTestApp {
  db: Db;
  app: Express;
}

/** A copy of the seeded test database with the OGC rows added, and the app on it. */
export async function openOgcApp(seed: SeedOptions = {}, env: Record<string, string> = {}): Promise<OgcTestApp> {
  const { db, app } = await testApp({ seed: (db) => seedOgcData(db, seed), env });
  return { db, app };
}

/** JSON body of any JSON-ish response (geo+json, problem+json, schema+json, openapi). */
export const body = (r: request.Response) => JSON.parse(r.text);

export interface Problem {
  status: number;
  title: string;
  detail?: string;
  param?: string;
  'invalid-params'?: { name: string; reason: string }[];
}

/** GETs `url`, expects a problem+json with `status`, returns the problem. */
export async function expectProblem(app: Express, url: string, status: number, headers: Record<string, string> = {}): Promise<Problem> {
  let req = request(app).get(url);
  for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
  const r = await req;
  expect(r.status, `${url} → ${r.text}`).toBe(status);
  expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
  const p = body(r) as Problem;
  expect(p.status).toBe(status);
  return p;
}

/** Follows `next` links from `url` until none; returns every page's body. */
export async function walkPages(app: Express, url: string, headers: Record<string, string> = {}, maxPages = 1000) {
  const pages: { body: ReturnType<typeof body>; url: string }[] = [];
  let next: string | undefined = url;
  while (next) {
    if (pages.length >= maxPages) throw new Error(`more than ${maxPages} pages from ${url}`);
    const u = new URL(next, 'http://127.0.0.1');
    let req = request(app).get(u.pathname + u.search);
    for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
    const r = await req;
    expect(r.status, `${next} → ${r.text.slice(0, 300)}`).toBe(200);
    const b = body(r);
    pages.push({ body: b, url: next });
    next = b.links.find((l: { rel: string }) => l.rel === 'next')?.href;
  }
  return pages;
}
