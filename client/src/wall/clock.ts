import { formatTime, lang } from '../i18n.ts';

/** A wall clock: time large, date small; ticks on the second. */
export function startClock(el: HTMLTimeElement): void {
  const tick = () => {
    const now = new Date();
    const date = now.toLocaleDateString(lang() === 'zh' ? 'zh-CN' : 'en-GB', { year: 'numeric', month: 'long', day: 'numeric', weekday: 'short' });
    el.dateTime = now.toISOString();
    el.innerHTML = `<b>${formatTime(now)}</b><small>${date}</small>`;
    setTimeout(tick, 1000 - (Date.now() % 1000) + 5);
  };
  tick();
}
