import type { OneMapApp } from '../app.ts';
import { byId } from '../dom.ts';
import { onLang, pick, t } from '../i18n.ts';
import { renderLayerPanel } from '../legend.ts';
import type { LiveStatus } from '../live/connection.ts';
import { startClock } from './clock.ts';
import { OccupancyBoard } from './occupancy.ts';
import { Ticker } from './ticker.ts';
import { OfflineNotice } from './offline.ts';

/**
 * Wall mode (`?mode=wall`): the map full screen in the dark theme, large type,
 * no controls. A clock, a ticker of the latest changes, shelter occupancy bars,
 * the legend of what is shown, the live-connection state, and optional rotation
 * through the districts (`&rotate=60`, seconds per district).
 */
export function startWall(app: OneMapApp): void {
  const side = byId('side');
  side.innerHTML = `<section class="wall-ticker"><h2 data-word="liveChanges"></h2><ol id="ticker"></ol></section>
    <section class="wall-occupancy"><h2 data-word="shelterOccupancy"></h2><div id="occupancy"></div></section>`;
  byId('topbar-tools').innerHTML = `<span id="offline-copy" role="alert" hidden></span><span id="live-status" role="status"></span><time id="clock"></time>`;
  const offline = new OfflineNotice(byId('offline-copy'));

  const board = new OccupancyBoard(byId('occupancy'), app, 8);
  const ticker = new Ticker(byId('ticker'), app, 12, (layer, id) => (layer === 'shelters' ? board.nameOf(id) : undefined));
  startClock(byId<HTMLTimeElement>('clock'));

  const title = () => {
    const d = app.state.district ? app.admin.byId.get(`districts:${app.state.district}`) : undefined;
    byId('app-title').textContent = d ? `${t('appTitle')} · ${pick(d.name)}` : t('appTitle');
  };
  const legend = () =>
    renderLayerPanel(byId('layers-panel'), app.catalogue, app.theme, { switchable: false, isOn: (id) => app.isOn(id) && app.inRange(id) });
  const status = (s: LiveStatus) => {
    const el = byId('live-status');
    el.dataset.status = s;
    el.textContent = s === 'open' ? `● ${t('live')}` : s === 'reconnecting' ? t('reconnecting') : t('loading');
  };

  onLang(() => {
    for (const el of side.querySelectorAll<HTMLElement>('[data-word]')) el.textContent = t(el.dataset.word as 'liveChanges');
    title();
    legend();
    status(app.live.status);
    ticker.render();
    board.render();
  });
  app.map.on('moveend', legend);
  app.onDistrictChange(() => {
    title();
    void board.load();
  });
  app.live.onStatus((s) => {
    status(s);
    void offline.check();
  });
  app.live.onEvent((e, alarming) => {
    ticker.add(e, alarming);
    board.apply(e);
  });
  app.live.onResync(() => void board.load());
  app.live.onDatabase(() => void offline.check());
  void board.load();

  // Browsers allow full screen only after a gesture: the first click or key on the wall asks for it.
  const goFullscreen = () => {
    if (!document.fullscreenElement) document.documentElement.requestFullscreen?.().catch(() => {});
  };
  window.addEventListener('pointerdown', goFullscreen, { once: true });
  window.addEventListener('keydown', goFullscreen, { once: true });

  // Rotation through the districts for unattended walls.
  if (app.state.rotate > 0 && app.admin.districts.length > 1) {
    const ids = [null, ...app.admin.districts.map((d) => d.id)];
    setInterval(() => {
      const next = ids[(ids.indexOf(app.state.district) + 1) % ids.length];
      app.setDistrict(next, { duration: 1500 });
    }, app.state.rotate * 1000);
  }
}
