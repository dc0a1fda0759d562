import Feature from 'ol/Feature.js';
import Point from 'ol/geom/Point.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import { fromLonLat, toLonLat } from 'ol/proj.js';
import { Circle, Fill, Stroke, Style } from 'ol/style.js';
import type { MapBrowserEvent } from 'ol';
import { ApiError, type LayerInfo } from '../api.ts';
import {
  createFeature,
  newIdempotencyKey,
  deleteFeature,
  featureSchema,
  invalidParams,
  readFeature,
  updateFeature,
  type EditableFeature,
  type FeatureSchema,
  type FieldSchema,
} from '../api-edit.ts';
import type { OneMapApp } from '../app.ts';
import { escapeHtml } from '../dom.ts';
import { onLang, pick, t } from '../i18n.ts';
import { formatValue, type Popup } from '../popup.ts';

interface EditState {
  layer: LayerInfo;
  schema: FeatureSchema;
  /** null while adding a new feature. */
  feature: EditableFeature | null;
  values: Record<string, unknown>;
  at: [number, number] | null;
  moved: boolean;
  errors: Record<string, string>;
  message: string;
  /** The stored version when a save found the feature changed by someone else. */
  conflict: EditableFeature | null;
  busy: boolean;
  /**
   * The Idempotency-Key of a new feature's creation: kept while no answer came, so a save
   * sent again after a lost answer does not create a second feature; new after an answer.
   */
  createKey: string;
}

/**
 * Editing points with an editor key: add, move, change the fields of, or delete
 * a feature of any editable point layer. The form is generated from the layer's
 * published schema (types, enums, required fields, bounds) and titled from the
 * catalogue; saves use OGC API – Features Part 4 with If-Match. A conflict shows
 * both versions side by side and lets the user choose; every field error the
 * server returns appears beside its field.
 */
export class EditPanel {
  private state: EditState | null = null;
  private picking = false;
  private saved = '';
  private readonly marker = new VectorSource<Feature<Point>>();

  constructor(
    private readonly app: OneMapApp,
    private readonly root: HTMLElement,
    private readonly popup: Popup,
    private readonly show: () => void,
  ) {
    app.map.addLayer(
      new VectorLayer({
        source: this.marker,
        zIndex: 90,
        properties: { role: 'edit-marker' },
        style: new Style({ image: new Circle({ radius: 9, fill: new Fill({ color: 'rgba(255,255,255,0.6)' }), stroke: new Stroke({ color: '#d500f9', width: 3 }) }) }),
      }),
    );
    onLang(() => this.render());
    root.addEventListener('click', (e) => this.onClick(e));
    root.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.save();
    });
    // Typed values live in the state, so a redraw (a map click placing the point) keeps them.
    root.addEventListener('input', (e) => this.onInput(e));
    root.addEventListener('change', (e) => this.onInput(e));
    app.map.on('singleclick', (e) => this.onMapClick(e));
  }

  /** Point layers the server lets this caller edit (from their schemas). */
  private async editableLayers(): Promise<LayerInfo[]> {
    const points = this.app.catalogue.filter((l) => l.geometry === 'point');
    const schemas = await Promise.all(points.map((l) => featureSchema(l.id).catch(() => null)));
    return points.filter((_, i) => schemas[i]?.['x-editable']);
  }

  async isEditable(layer: string): Promise<boolean> {
    return (await featureSchema(layer).catch(() => null))?.['x-editable'] === true;
  }

  /** Opens the form of a stored feature (from its popup). */
  async edit(layer: LayerInfo, id: number | string): Promise<void> {
    this.show();
    this.saved = '';
    try {
      const [schema, feature] = await Promise.all([featureSchema(layer.id), readFeature(layer.id, id)]);
      this.state = this.newState(layer, schema, feature);
      this.placeMarker();
    } catch (err) {
      this.state = null;
      this.saved = `${t('saveFailed')}: ${(err as Error).message}`;
    }
    this.render();
  }

  private newState(layer: LayerInfo, schema: FeatureSchema, feature: EditableFeature | null): EditState {
    const values: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(schema.properties)) if (!field.readOnly) values[name] = feature?.properties[name] ?? null;
    if (!feature && 'district_id' in values && this.app.state.district) values.district_id = this.app.state.district;
    return { layer, schema, feature, values, at: feature ? [feature.lon, feature.lat] : null, moved: false, errors: {}, message: '', conflict: null, busy: false, createKey: newIdempotencyKey() };
  }

  private async add(layerId: string): Promise<void> {
    const layer = this.app.layerInfo(layerId);
    if (!layer) return;
    this.saved = '';
    this.state = this.newState(layer, await featureSchema(layerId), null);
    this.marker.clear();
    this.startPicking();
  }

  private startPicking(): void {
    this.picking = true;
    this.popup.suspended = true;
    this.popup.close();
    this.render();
  }

  private stopPicking(): void {
    this.picking = false;
    setTimeout(() => (this.popup.suspended = false), 300);
  }

  private onMapClick(e: MapBrowserEvent): void {
    if (!this.picking || !this.state) return;
    const [lon, lat] = toLonLat(e.coordinate);
    this.state.at = [Number(lon.toFixed(7)), Number(lat.toFixed(7))];
    this.state.moved = this.state.feature !== null;
    this.placeMarker();
    this.stopPicking();
    this.render();
  }

  private placeMarker(): void {
    this.marker.clear();
    if (this.state?.at) this.marker.addFeature(new Feature(new Point(fromLonLat(this.state.at))));
  }

  private onInput(e: Event): void {
    const input = e.target as HTMLInputElement | HTMLSelectElement;
    const name = input.dataset.field;
    if (!name || !this.state) return;
    const field = this.state.schema.properties[name];
    this.state.values[name] = parseValue(field, input);
  }

  private onClick(e: Event): void {
    const target = e.target as HTMLElement;
    const action = target.closest<HTMLElement>('[data-edit-action]')?.dataset.editAction;
    if (!action) return;
    if (action === 'add') {
      const layer = this.root.querySelector<HTMLSelectElement>('select[data-edit-layer]')?.value;
      if (layer) void this.add(layer);
    }
    if (action === 'move') this.startPicking();
    if (action === 'cancel') this.close();
    if (action === 'delete') void this.remove();
    if (action === 'keep-mine' && this.state?.conflict) {
      // Save what the user typed over the version now stored.
      this.state.feature = this.state.conflict;
      this.state.conflict = null;
      void this.save();
    }
    if (action === 'take-theirs' && this.state?.conflict) {
      this.state = this.newState(this.state.layer, this.state.schema, this.state.conflict);
      this.state.message = t('tookTheirs');
      this.placeMarker();
      this.render();
    }
  }

  close(): void {
    this.state = null;
    this.marker.clear();
    if (this.picking) this.stopPicking();
    this.render();
  }

  /** The fields that differ from the version read (a PATCH sends only those). */
  private changes(s: EditState): Record<string, unknown> {
    if (!s.feature) return Object.fromEntries(Object.entries(s.values).filter(([, v]) => v !== null));
    return Object.fromEntries(Object.entries(s.values).filter(([k, v]) => (s.feature!.properties[k] ?? null) !== v));
  }

  async save(): Promise<void> {
    const s = this.state;
    if (!s || s.busy) return;
    for (const input of this.root.querySelectorAll<HTMLInputElement>('[data-field]')) {
      const name = input.dataset.field!;
      s.values[name] = parseValue(s.schema.properties[name], input);
    }
    if (!s.at) {
      s.errors = { geometry: t('pickLocation') };
      return this.render();
    }
    s.busy = true;
    s.errors = {};
    s.message = '';
    this.render();
    try {
      const stored = s.feature
        ? await updateFeature(s.layer.id, s.feature.id, s.feature.etag, this.changes(s), s.moved ? s.at : null)
        : await createFeature(s.layer.id, s.at[0], s.at[1], this.changes(s), s.createKey);
      this.state = this.newState(s.layer, s.schema, stored);
      this.state.message = `${t('savedAs')} ${stored.etag}`;
      this.placeMarker();
    } catch (err) {
      s.busy = false;
      if (err instanceof ApiError) s.createKey = newIdempotencyKey(); // an answer came: the next save is a new request
      if (err instanceof ApiError && err.status === 412 && s.feature) {
        s.conflict = await readFeature(s.layer.id, s.feature.id).catch(() => null);
        s.message = t('conflict');
      } else {
        for (const p of invalidParams(err)) s.errors[p.name.replace(/^properties\./, '').split('.')[0]] = p.reason;
        s.message = `${t('saveFailed')}: ${(err as Error).message}`;
      }
    }
    this.render();
  }

  private async remove(): Promise<void> {
    const s = this.state;
    if (!s?.feature || !confirm(t('confirmDelete'))) return;
    try {
      await deleteFeature(s.layer.id, s.feature.id, s.feature.etag);
      this.saved = t('deleted');
      this.close();
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) {
        s.conflict = await readFeature(s.layer.id, s.feature.id).catch(() => null);
        s.message = t('conflict');
      } else s.message = `${t('saveFailed')}: ${(err as Error).message}`;
      this.render();
    }
  }

  private title(s: EditState, name: string): string {
    const prop = s.layer.properties.find((p) => p.name === name);
    return prop ? pick(prop.title) : name;
  }

  private fieldHtml(s: EditState, name: string, field: FieldSchema): string {
    const required = s.schema.required.includes(name);
    const value = s.values[name];
    const prop = s.layer.properties.find((p) => p.name === name);
    const attrs = `data-field="${escapeHtml(name)}" name="${escapeHtml(name)}"${required ? ' required' : ''}`;
    let input: string;
    if (field.enum) {
      const options = field.enum
        .map((v) => `<option value="${escapeHtml(v)}"${v === value ? ' selected' : ''}>${escapeHtml(formatValue(prop, v) || v)}</option>`)
        .join('');
      input = `<select ${attrs}><option value=""></option>${options}</select>`;
    } else if (field.type === 'boolean') {
      input = `<select ${attrs}><option value=""></option><option value="true"${value === true ? ' selected' : ''}>${t('yes')}</option><option value="false"${value === false ? ' selected' : ''}>${t('no')}</option></select>`;
    } else if (field.type === 'integer' || field.type === 'number') {
      const bounds = `${field.minimum !== undefined ? ` min="${field.minimum}"` : ''}${field.maximum !== undefined ? ` max="${field.maximum}"` : ''}`;
      input = `<input type="number" ${attrs}${bounds} step="${field.type === 'integer' ? '1' : 'any'}" value="${value ?? ''}">`;
    } else {
      input = `<input type="${field.format === 'date' ? 'date' : 'text'}" ${attrs} value="${escapeHtml(value === null || value === undefined ? '' : String(value))}">`;
    }
    const error = s.errors[name];
    return `<label class="field${error ? ' invalid' : ''}"><span>${escapeHtml(this.title(s, name))}${required ? ' *' : ''}</span>${input}
      <small class="field-error" data-field-error="${escapeHtml(name)}">${error ? escapeHtml(error) : ''}</small></label>`;
  }

  private conflictHtml(s: EditState): string {
    const theirs = s.conflict!;
    const mine = this.changes({ ...s, feature: s.feature });
    const rows = Object.keys(mine)
      .map(
        (name) => `<tr data-conflict-field="${escapeHtml(name)}"><th>${escapeHtml(this.title(s, name))}</th>
          <td data-side="mine">${escapeHtml(String(mine[name] ?? ''))}</td><td data-side="theirs">${escapeHtml(String(theirs.properties[name] ?? ''))}</td></tr>`,
      )
      .join('');
    return `<div class="conflict" role="alert"><p>${t('conflictExplain')} (${escapeHtml(s.feature?.etag ?? '')} → ${escapeHtml(theirs.etag)})</p>
      <table class="scenario-table"><thead><tr><th></th><th>${t('mine')}</th><th>${t('theirs')}</th></tr></thead><tbody>${rows}</tbody></table>
      <div class="actions"><button type="button" data-edit-action="keep-mine">${t('keepMine')}</button><button type="button" data-edit-action="take-theirs">${t('takeTheirs')}</button></div></div>`;
  }

  render(): void {
    void this.renderAsync();
  }

  private layerOptions: LayerInfo[] | null = null;

  private async renderAsync(): Promise<void> {
    if (!this.layerOptions) {
      this.layerOptions = [];
      this.layerOptions = await this.editableLayers();
    }
    const s = this.state;
    const parts = [`<h2>${t('editPoints')}</h2>`];
    if (!s) {
      parts.push(`<div class="actions"><select data-edit-layer aria-label="${t('layers')}">${this.layerOptions
        .map((l) => `<option value="${escapeHtml(l.id)}">${escapeHtml(pick(l.title))}</option>`)
        .join('')}</select><button type="button" data-edit-action="add">${t('addPoint')}</button></div>
        <p class="small muted">${t('editHint')}</p>${this.saved ? `<p class="small" data-edit-message>${escapeHtml(this.saved)}</p>` : ''}`);
    } else {
      const heading = s.feature ? `${pick(s.layer.title)} #${s.feature.id} · ${s.feature.etag}` : `${pick(s.layer.title)} · ${t('newFeature')}`;
      const fields = Object.entries(s.schema.properties)
        .filter(([, f]) => !f.readOnly)
        .map(([name, f]) => this.fieldHtml(s, name, f))
        .join('');
      parts.push(`<form class="edit-form" data-edit-form="${escapeHtml(s.layer.id)}" novalidate>
        <h3>${escapeHtml(heading)}</h3>
        <p class="small${s.errors.geometry ? ' bad' : ''}" data-edit-location>${
          this.picking ? t('pickLocation') : s.at ? `${t('location')}: ${s.at[0].toFixed(6)}, ${s.at[1].toFixed(6)}${s.moved ? ` (${t('moved')})` : ''}` : t('pickLocation')
        } <button type="button" class="link" data-edit-action="move">${t('placeOnMap')}</button>
        <small class="field-error" data-field-error="geometry">${escapeHtml(s.errors.geometry ?? '')}</small></p>
        ${s.conflict ? this.conflictHtml(s) : ''}
        ${s.message ? `<p class="small${s.conflict || Object.keys(s.errors).length ? ' bad' : ''}" data-edit-message>${escapeHtml(s.message)}</p>` : ''}
        <div class="fields">${fields}</div>
        <div class="actions"><button type="submit"${s.busy ? ' disabled' : ''}>${t('save')}</button>${
          s.feature ? `<button type="button" data-edit-action="delete">${t('delete')}</button>` : ''
        }<button type="button" data-edit-action="cancel">${t('close')}</button></div></form>`);
    }
    this.root.innerHTML = parts.join('');
  }
}

/** A form input's value in the field's type; empty is null (the server says whether that is allowed). */
function parseValue(field: FieldSchema | undefined, input: HTMLInputElement | HTMLSelectElement): unknown {
  const raw = input.value.trim();
  if (raw === '') return null;
  if (field?.type === 'boolean') return raw === 'true';
  if (field?.type === 'integer' || field?.type === 'number') {
    const n = Number(raw);
    return Number.isFinite(n) ? n : raw;
  }
  return raw;
}
