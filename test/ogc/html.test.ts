import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import type { Db } from '../../server/db/types.ts';
import { CLIENT_CSP } from '../../server/routes/client.ts';
import { body, openOgcApp } from './helpers.ts';

/** HTML pages of /ogc (Part 1 HTML): landing, collections, collection, items, in zh and en. */
let db: Db;
let app: Express;
beforeAll(async () => {
  ({ db, app } = await openOgcApp({ riskPoints: 30 }));
}, 300_000);
afterAll(async () => db?.close());

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

async function page(url: string, headers: Record<string, string> = {}) {
  let req = request(app).get(url);
  for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
  const r = await req.expect(200);
  expect(r.headers['content-type']).toMatch(/^text\/html; charset=utf-8/);
  expect(r.headers['content-security-policy']).toBe(CLIENT_CSP);
  return r.text;
}

describe('HTML pages', () => {
  it('f=html or a browser Accept gives pages; programs still get JSON', async () => {
    const id = body(await request(app).get('/ogc/collections/risk_points/items?limit=1').expect(200)).features[0].id;
    for (const path of ['/ogc', '/ogc/conformance', '/ogc/collections', '/ogc/collections/risk_points', '/ogc/collections/risk_points/items', `/ogc/collections/risk_points/items/${id}`]) {
      expect(await page(`${path}?f=html`)).toContain('<!doctype html>');
      expect(await page(path, { accept: BROWSER_ACCEPT })).toContain('<!doctype html>');
      const json = await request(app).get(path).expect(200);
      expect(json.headers['content-type']).toMatch(/json/);
      const star = await request(app).get(path).set('accept', '*/*').expect(200);
      expect(star.headers['content-type']).toMatch(/json/);
    }
  });

  it('speaks Chinese by default, English with lang=en or Accept-Language: en, and links the other language', async () => {
    const zh = await page('/ogc/collections/risk_points?f=html');
    expect(zh).toContain('<html lang="zh-CN">');
    expect(zh).toContain('风险点');
    expect(zh).toMatch(/href="[^"]*lang=en"/);
    const en = await page('/ogc/collections/risk_points?f=html&lang=en');
    expect(en).toContain('<html lang="en">');
    expect(en).toContain('Browse features');
    expect(await page('/ogc/collections?f=html', { 'accept-language': 'en-GB,en;q=0.9' })).toContain('Collections');
  });

  it('the collections page lists every public collection, not the restricted one', async () => {
    const html = await page('/ogc/collections?f=html');
    const ids = (body(await request(app).get('/ogc/collections').expect(200)).collections as { id: string }[]).map((c) => c.id);
    for (const id of ids) expect(html).toContain(`<code>${id}</code>`);
    expect(html).not.toContain('hazard_sources');
  });

  it('the items page has the map element, a table row per feature, escaped text and paging links that stay HTML', async () => {
    const url = '/ogc/collections/risk_points/items?f=html&limit=5&sortby=id&lang=en';
    const html = await page(url);
    const json = body(await request(app).get('/ogc/collections/risk_points/items?limit=5&sortby=id').expect(200));
    expect(html).toContain('id="ogc-map"');
    expect(html).toMatch(/data-src="http:\/\/127\.0\.0\.1:\d+\/ogc\/collections\/risk_points\/items\?f=json&amp;limit=5&amp;sortby=id"/);
    expect(html.match(/<tr data-id=/g)).toHaveLength(5);
    for (const f of json.features) expect(html).toContain(`<tr data-id="${f.id}">`);
    const next = /<a rel="next" href="([^"]+)"/.exec(html)![1].replace(/&amp;/g, '&');
    expect(next).toMatch(/f=html/);
    expect(next).toMatch(/cursor=/);
    const second = await page(new URL(next).pathname + new URL(next).search);
    expect(second).toMatch(/<a rel="prev"/);
    // names are escaped, never markup
    const formula = await page(`/ogc/collections/risk_points/items?f=html&q=HYPERLINK`);
    expect(formula).toContain('=HYPERLINK(&quot;x&quot;)');
    // no inline script: the only script is the bundle's (CSP script-src 'self')
    expect(html).not.toMatch(/<script>(?!<\/script>)/);
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);
  });

  it('each row of the items page links to its feature’s page, in the same language; the feature page does not link to itself', async () => {
    const html = await page('/ogc/collections/risk_points/items?f=html&limit=3&sortby=id&lang=en');
    const json = body(await request(app).get('/ogc/collections/risk_points/items?limit=3&sortby=id').expect(200));
    for (const f of json.features) {
      const row = new RegExp(`<tr data-id="${f.id}"><td><a href="([^"]+)">${f.id}</a></td>`).exec(html);
      expect(row, `row ${f.id}`).not.toBeNull();
      const href = new URL(row![1].replace(/&amp;/g, '&'));
      expect(href.pathname).toBe(`/ogc/collections/risk_points/items/${f.id}`);
      expect(Object.fromEntries(href.searchParams)).toEqual({ f: 'html', lang: 'en' });
      const item = await page(href.pathname + href.search);
      expect(item).toContain(`<tr data-id="${f.id}"><td>${f.id}</td>`);
    }
  });
});
