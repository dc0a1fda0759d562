/**
 * A minimal Server-Sent Events reader for tests: collects `change` events (they carry
 * ids) in `events`, and events without an id (`event: database`) in `notices`.
 */
export interface SseEvent {
  /** The data version of the event (the id's part before a dot). */
  id: number;
  /** The SSE id as sent: `V`, or `V.k` for the k-th further event of that version. */
  eventId: string;
  data: Record<string, unknown>;
}

export function subscribeSse(url: string, headers: Record<string, string> = {}) {
  const events: SseEvent[] = [];
  const notices: { event: string; data: Record<string, unknown> }[] = [];
  const controller = new AbortController();
  const opened = fetch(url, { headers, signal: controller.signal }).then((res) => {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          text += decoder.decode(value, { stream: true });
          let cut;
          while ((cut = text.indexOf('\n\n')) >= 0) {
            const block = text.slice(0, cut);
            text = text.slice(cut + 2);
            const id = /^id: ((\d+)(?:\.\d+)?)$/m.exec(block);
            const data = /^data: (.*)$/m.exec(block);
            const name = /^event: (.*)$/m.exec(block);
            if (id && data) events.push({ id: Number(id[2]), eventId: id[1], data: JSON.parse(data[1]) });
            else if (name && data) notices.push({ event: name[1], data: JSON.parse(data[1]) });
          }
        }
      } catch {
        /* aborted */
      }
    })();
    return res;
  });
  return { events, notices, opened, close: () => controller.abort() };
}

export async function waitFor<T>(fn: () => T | undefined | Promise<T | undefined>, ms: number, what = 'condition'): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The XYZ tile containing a WGS84 position (Web Mercator). */
export function tileOf(lon: number, lat: number, z: number): { z: number; x: number; y: number } {
  const n = 2 ** z;
  const x = Math.floor(((lon + 180) / 360) * n);
  const r = (lat * Math.PI) / 180;
  const y = Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n);
  return { z, x, y };
}
