/**
 * `GET /events` sends its heartbeats as `event: heartbeat` with the interval, which a browser's
 * EventSource hands to the page (comments it never shows): the client takes a stream silent for
 * several of them as broken (test/unit/live-silence.test.ts).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeBus } from '../../server/changes.ts';
import { liveEvents } from '../../server/live/events.ts';

let server: http.Server;
let live: ReturnType<typeof liveEvents>;
let base: string;
beforeAll(async () => {
  live = liveEvents(new ChangeBus(), { heartbeatSeconds: 0.2, replayBuffer: 10, maxClients: 5 });
  const app = express();
  app.use(live.router);
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  live.close();
  await new Promise((resolve) => server.close(resolve));
});

describe('live heartbeats', () => {
  it('are events with their interval, one at once and then every interval', async () => {
    const controller = new AbortController();
    const res = await fetch(`${base}/events`, { signal: controller.signal });
    const reader = res.body!.getReader();
    let text = '';
    const started = Date.now();
    while ((text.match(/event: heartbeat\n/g) ?? []).length < 2 && Date.now() - started < 5_000) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    const blocks = text.split('\n\n');
    expect(blocks[1]).toBe('event: heartbeat\ndata: {"interval_s":0.2}');
    const beats = blocks.filter((block) => block.includes('event: heartbeat'));
    expect(beats.length).toBeGreaterThanOrEqual(2);
    for (const b of beats) expect(b).toBe('event: heartbeat\ndata: {"interval_s":0.2}');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
