/** Polls `ok` every `pollMs` until it holds; throws after `timeoutMs`. */
export async function until(ok: () => boolean, timeoutMs = 30_000, pollMs = 20): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`condition not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
