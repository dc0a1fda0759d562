import Feature from 'ol/Feature.js';
import LineString from 'ol/geom/LineString.js';
import Point from 'ol/geom/Point.js';
import type { Geometry } from 'ol/geom.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import { fromLonLat, toLonLat } from 'ol/proj.js';
import { Circle, Fill, Stroke, Style, Text } from 'ol/style.js';
import { fetchJson, type GeoJsonCollection } from '../api.ts';
import { nearestShelters, type NearestAnswer } from '../api-risk.ts';
import type { OneMapApp } from '../app.ts';
import { escapeHtml } from '../dom.ts';
import { formatNumber, onLang, pick, t } from '../i18n.ts';
import { FONT_STACK } from '../theme.ts';
import { analysisError } from './errors.ts';

/** A press held this long without moving is a long-press (touch screens have no right button). */
const LONG_PRESS_MS = 600;
/** A browser click or context menu this soon after a long-press's finger lifted belongs to it. */
const AFTER_LIFT_MS = 800;

/**
 * Nearest usable shelters: right-click or long-press anywhere, or type the name
 * or address of a known feature. The server's answer (distance, walking minutes,
 * free places) is listed and drawn as a line from the point to each shelter.
 */
export class NearestShelters {
  private readonly source = new VectorSource<Feature<Geometry>>();
  private readonly box: HTMLElement;
  private readonly form: HTMLFormElement;
  private answer: NearestAnswer | null = null;
  private label = '';
  private error: string | null = null;
  private busy = false;
  private generation = 0;

  constructor(private readonly app: OneMapApp) {
    const lineStyle = new Style({ stroke: new Stroke({ color: '#1f5fbf', width: 2, lineDash: [6, 4] }) });
    const fromStyle = new Style({ image: new Circle({ radius: 7, fill: new Fill({ color: '#111' }), stroke: new Stroke({ color: '#fff', width: 2 }) }) });
    app.map.addLayer(
      new VectorLayer({
        source: this.source,
        zIndex: 70,
        properties: { role: 'nearest' },
        style: (f) => {
          const kind = f.get('kind');
          if (kind === 'line') return lineStyle;
          if (kind === 'from') return fromStyle;
          return new Style({
            image: new Circle({ radius: 11, fill: new Fill({ color: '#1f5fbf' }), stroke: new Stroke({ color: '#fff', width: 2 }) }),
            text: new Text({ text: String(f.get('rank')), fill: new Fill({ color: '#fff' }), font: `bold 12px ${FONT_STACK}` }),
          });
        },
      }),
    );
    this.box = document.createElement('div');
    this.box.id = 'nearest';
    this.box.className = 'panel';
    this.box.hidden = true;
    document.getElementById('stage')!.append(this.box);
    this.box.addEventListener('click', (e) => {
      if ((e.target as HTMLElement).closest('[data-action="nearest-close"]')) this.clear();
    });
    // The search sits in the top bar, out of the map's way; answers open over the map.
    this.form = document.createElement('form');
    this.form.className = 'nearest-form';
    document.getElementById('topbar')!.append(this.form);
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      const input = this.form.querySelector<HTMLInputElement>('input[name="place"]');
      if (input?.value.trim()) void this.findPlace(input.value.trim());
    });
    onLang(() => this.render());

    const viewport = app.map.getViewport() as HTMLElement;
    // When a long-press has asked, lifting the finger is part of it: it must not also be a
    // click (which would open a popup, pick a risk row or place a point under the finger), and
    // the context menu some touch browsers raise for the same press must not ask twice.
    let press: { timer: number; x: number; y: number } | null = null;
    let fired = false;
    let liftedAt = -Infinity;
    const cancel = () => {
      if (press) clearTimeout(press.timer);
      press = null;
    };
    viewport.addEventListener('contextmenu', (e) => {
      e.preventDefault();
      if (fired || performance.now() - liftedAt < AFTER_LIFT_MS) return;
      if (press) {
        cancel();
        fired = true;
      }
      const [lon, lat] = toLonLat(app.map.getEventCoordinate(e));
      void this.ask(lon, lat, '');
    });
    // OpenLayers turns a pointerup into click/singleclick unless a listener prevents it.
    app.map.addEventListener('pointerup', (e) => {
      if (!fired) return;
      e.preventDefault();
      fired = false;
      liftedAt = performance.now();
    });
    // … and the browser may still send its own click once the touch has ended.
    viewport.addEventListener(
      'click',
      (e) => {
        if (performance.now() - liftedAt >= AFTER_LIFT_MS) return;
        e.stopPropagation();
        e.preventDefault();
      },
      true,
    );
    viewport.addEventListener('pointerdown', (e) => {
      cancel();
      fired = false;
      if (e.pointerType === 'mouse') return;
      const coordinate = app.map.getEventCoordinate(e);
      press = {
        x: e.clientX,
        y: e.clientY,
        timer: window.setTimeout(() => {
          press = null;
          fired = true;
          const [lon, lat] = toLonLat(coordinate);
          void this.ask(lon, lat, '');
        }, LONG_PRESS_MS),
      };
    });
    viewport.addEventListener('pointermove', (e) => {
      if (press && Math.hypot(e.clientX - press.x, e.clientY - press.y) > 8) cancel();
    });
    viewport.addEventListener('pointerup', cancel);
    viewport.addEventListener('pointercancel', cancel);
  }

  /** Looks a typed name or address up among the point layers' searchable fields, then asks from there. */
  async findPlace(text: string): Promise<void> {
    const gen = ++this.generation;
    this.busy = true;
    this.error = null;
    this.render();
    const layers = this.app.catalogue.filter((l) => l.geometry === 'point');
    const hits = await Promise.all(
      layers.map((l) =>
        fetchJson<GeoJsonCollection>(`/ogc/collections/${encodeURIComponent(l.id)}/items?q=${encodeURIComponent(text)}&limit=1`, {
          headers: { Accept: 'application/geo+json' },
        }).catch(() => null),
      ),
    );
    if (gen !== this.generation) return;
    const found = hits.flatMap((h) => h?.features ?? []).find((f) => f.geometry?.type === 'Point');
    if (!found) {
      this.busy = false;
      this.error = `${t('placeNotFound')}: ${text}`;
      this.answer = null;
      this.source.clear();
      this.render();
      return;
    }
    const [lon, lat] = found.geometry!.coordinates as [number, number];
    const p = found.properties as { name_zh?: string; name_en?: string };
    await this.ask(lon, lat, pick({ zh: p.name_zh ?? '', en: p.name_en ?? '' }) || text, gen);
  }

  async ask(lon: number, lat: number, label: string, gen = ++this.generation): Promise<void> {
    this.busy = true;
    this.error = null;
    this.label = label;
    this.render();
    try {
      const answer = await nearestShelters(lon, lat);
      if (gen !== this.generation) return;
      this.answer = answer;
      this.draw(answer);
    } catch (err) {
      if (gen !== this.generation) return;
      this.answer = null;
      this.source.clear();
      this.error = analysisError(err);
    }
    this.busy = false;
    this.render();
  }

  private draw(answer: NearestAnswer): void {
    this.source.clear();
    const from = fromLonLat([answer.query.lon, answer.query.lat]);
    const features: Feature<Geometry>[] = [new Feature({ geometry: new Point(from), kind: 'from' })];
    for (const s of answer.shelters) {
      const to = fromLonLat([s.lon, s.lat]);
      features.push(new Feature({ geometry: new LineString([from, to]), kind: 'line' }));
      const marker = new Feature({ geometry: new Point(to), kind: 'shelter', rank: s.rank });
      marker.setId(s.id);
      features.push(marker);
    }
    this.source.addFeatures(features);
    const extent = this.source.getExtent();
    this.app.fit(extent, 300);
  }

  clear(): void {
    this.generation++;
    this.answer = null;
    this.error = null;
    this.busy = false;
    this.source.clear();
    this.render();
  }

  private render(): void {
    const value = this.form.querySelector<HTMLInputElement>('input[name="place"]')?.value ?? '';
    this.form.innerHTML = `<input name="place" type="search" title="${escapeHtml(t('nearestHint'))}" placeholder="${escapeHtml(t('placeSearch'))}" aria-label="${escapeHtml(t('placeSearch'))}"><button type="submit">${t('nearestShelter')}</button>`;
    this.form.querySelector<HTMLInputElement>('input')!.value = value;
    const a = this.answer;
    this.box.hidden = !a && !this.error && !this.busy;
    // The point asked from, exactly as the server echoed it.
    this.box.dataset.from = a ? `${a.query.lon},${a.query.lat}` : '';
    const rows = (a?.shelters ?? [])
      .map(
        (s) => `<tr data-nearest-id="${s.id}"><td>${s.rank}</td><td>${escapeHtml(pick({ zh: s.name_zh, en: s.name_en ?? '' }))}</td>
          <td data-distance="${s.distance_m}">${formatNumber(s.distance_m)} m</td><td data-minutes="${s.walking_minutes}">${formatNumber(s.walking_minutes, 1)} ${t('minutes')}</td>
          <td data-free="${s.free_capacity}">${formatNumber(s.free_capacity)}</td></tr>`,
      )
      .join('');
    const where = a ? (this.label ? escapeHtml(this.label) : `${a.query.lon.toFixed(5)}, ${a.query.lat.toFixed(5)}`) : '';
    this.box.innerHTML = `<button type="button" class="popup-close" data-action="nearest-close" aria-label="${t('close')}">×</button>
      <h3>${t('nearestShelter')}</h3>
      ${this.busy ? `<p class="small muted">${t('working')}</p>` : ''}
      ${this.error ? `<p class="analysis-error small">${escapeHtml(this.error)}</p>` : ''}
      ${a ? `<p class="small"><b>${t('nearestFrom')}</b> ${where}</p>${rows ? `<table class="nearest-table"><thead><tr><th>#</th><th>${t('shelter')}</th><th>${t('distance')}</th><th>${t('walk')}</th><th>${t('freePlaces')}</th></tr></thead><tbody>${rows}</tbody></table>` : `<p class="muted small">${t('noShelterFound')}</p>`}` : ''}`;
  }
}
