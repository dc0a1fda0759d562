import { fromLonLat } from 'ol/proj.js';
import type { LayerInfo } from '../api.ts';
import { IMPORT_TYPES, featureSchema, importJob, newIdempotencyKey, startImport, type ImportFlaggedShelter, type ImportJob } from '../api-edit.ts';
import type { OneMapApp } from '../app.ts';
import { escapeHtml } from '../dom.ts';
import { formatCount, formatNumber, onLang, pick, t, type Word } from '../i18n.ts';

const CRS: [string, Word][] = [
  ['wgs84', 'crsWgs84'],
  ['cgcs2000', 'crsCgcs2000'],
  ['gcj02', 'crsGcj02'],
  ['bd09', 'crsBd09'],
];
const POLL_MS = 250;
/** The layer of a hazard named in a hazard zone (`flood_point` → `flood_points`). */
const HAZARD_LAYERS: Record<string, string> = { flood_point: 'flood_points', geohazard_site: 'geohazard_sites' };
/** The server's import phases, in words. */
const PHASES: Record<string, Word> = {
  parsing: 'phaseParsing',
  validating: 'phaseValidating',
  'checking districts': 'phaseDistricts',
  writing: 'phaseWriting',
  done: 'phaseDone',
};

/**
 * Importing a GeoJSON, CSV or XLSX file into a layer: first a dry run that lists
 * every bad row with its reason, then the import itself. Both run as jobs on the
 * server; the progress bar shows the rows processed and the phase read from the
 * job endpoint. New features reach every open map through the live events.
 */
export class ImportPanel {
  private layers: LayerInfo[] = [];
  private layer = '';
  private crs = 'wgs84';
  private file: File | null = null;
  private job: ImportJob | null = null;
  /** The file passed a dry run with these choices: the import may go ahead. */
  private checked = false;
  private error = '';
  private running = false;
  /**
   * The Idempotency-Key of the import of this file, layer and coordinate system: kept
   * until an answer comes, so the import sent again after a lost answer is not imported
   * twice; new for other choices and after an answer.
   */
  private importKey = newIdempotencyKey();

  constructor(
    private readonly app: OneMapApp,
    private readonly root: HTMLElement,
  ) {
    onLang(() => this.render());
    void this.loadLayers();
    root.addEventListener('change', (e) => {
      const input = e.target as HTMLInputElement;
      if (input.dataset.import === 'layer') this.layer = input.value;
      if (input.dataset.import === 'crs') this.crs = input.value;
      if (input.dataset.import === 'file') this.file = input.files?.[0] ?? null;
      if (input.dataset.import) {
        this.importKey = newIdempotencyKey();
        this.checked = false;
        this.job = null;
        this.error = '';
        this.renderStatus();
      }
    });
    root.addEventListener('click', (e) => {
      const target = e.target as HTMLElement;
      const action = target.closest<HTMLElement>('[data-import-action]')?.dataset.importAction;
      if (action === 'check') void this.run(true);
      if (action === 'commit') void this.run(false);
      const flagged = target.closest<HTMLElement>('[data-flagged-index]')?.dataset.flaggedIndex;
      if (flagged) this.showShelter(Number(flagged));
    });
  }

  private async loadLayers(): Promise<void> {
    const candidates = this.app.catalogue.filter((l) => l.geometry === 'point');
    const schemas = await Promise.all(candidates.map((l) => featureSchema(l.id).catch(() => null)));
    this.layers = candidates.filter((_, i) => schemas[i]?.['x-editable']);
    this.layer ||= this.layers[0]?.id ?? '';
    this.render();
  }

  private async run(dryRun: boolean): Promise<void> {
    if (!this.file || !this.layer || this.running) return;
    const ext = this.file.name.split('.').pop()?.toLowerCase() ?? '';
    const type = IMPORT_TYPES[ext === 'geojson' ? 'geojson' : ext];
    if (!type) {
      this.error = t('importFileType');
      return this.renderStatus();
    }
    this.running = true;
    this.error = '';
    try {
      let job = await startImport(this.layer, this.file, type, this.crs, dryRun, dryRun ? undefined : this.importKey);
      if (!dryRun) this.importKey = newIdempotencyKey();
      this.job = job;
      this.renderStatus();
      while (job.status === 'running') {
        await new Promise((r) => setTimeout(r, POLL_MS));
        job = await importJob(job.job);
        this.job = job;
        this.renderStatus();
      }
      this.checked = dryRun && job.status === 'valid';
    } catch (err) {
      this.error = `${t('importFailed')}: ${(err as Error).message}`;
    }
    this.running = false;
    this.renderStatus();
  }

  /** Centres the map on a shelter the import made (or would make) unusable, by its place in the list. */
  private showShelter(index: number): void {
    const s = this.job?.sheltersFlagged?.[index];
    if (!s) return;
    const view = this.app.map.getView();
    view.animate({ center: fromLonLat([s.lon, s.lat]), zoom: Math.max(view.getZoom() ?? 0, 16), duration: 300 });
  }

  /**
   * The shelters a committed import made unusable — or, after a dry run, would make unusable —
   * each with the hazard whose zone holds it. What the import would create has no id yet: the
   * dry run names it by its row in the file.
   */
  private flaggedTable(flagged: ImportFlaggedShelter[], predicted: boolean): string {
    if (!flagged.length) return '';
    const rows = flagged
      .map((s, i) => {
        const z = s.hazard_zone;
        const layer = this.app.layerInfo(HAZARD_LAYERS[z.hazard] ?? z.hazard);
        const hazard = `${escapeHtml(layer ? pick(layer.title) : z.hazard)} ${z.id === null ? `(${t('importRow')} ${z.row})` : `#${z.id}`}`;
        const name = escapeHtml(pick({ zh: s.name_zh, en: s.name_en ?? '' })) + (s.id === null ? ` (${t('importRow')} ${s.row})` : '');
        return `<tr data-flagged-shelter="${s.id ?? ''}" data-flagged-index="${i}" title="${escapeHtml(s.unusable_note)}"><td>${name}</td><td>${hazard}</td>
          <td data-distance="${z.distance_m}">${formatNumber(z.distance_m, 1)} m / ${formatNumber(z.within_m)} m</td></tr>`;
      })
      .join('');
    const heading = predicted ? `data-import-would-flag="${flagged.length}">${t('sheltersWouldFlag')}` : `data-import-flagged="${flagged.length}">${t('sheltersFlagged')}`;
    return `<h3 ${heading} (${formatNumber(flagged.length)})</h3>
      <table class="scenario-table import-flagged"><thead><tr><th>${t('shelter')}</th><th>${t('hazard')}</th><th>${t('distanceZone')}</th></tr></thead><tbody>${rows}</tbody></table>`;
  }

  private render(): void {
    const option = (value: string, label: string, current: string) =>
      `<option value="${escapeHtml(value)}"${value === current ? ' selected' : ''}>${escapeHtml(label)}</option>`;
    this.root.innerHTML = `<h2>${t('importFile')}</h2>
      <div class="import-form">
        <label>${t('layers')} <select data-import="layer">${this.layers.map((l) => option(l.id, pick(l.title), this.layer)).join('')}</select></label>
        <label>${t('crs')} <select data-import="crs">${CRS.map(([v, w]) => option(v, t(w), this.crs)).join('')}</select></label>
        <label>${t('file')} <input type="file" data-import="file" accept=".geojson,.json,.csv,.xlsx"></label>
      </div><div data-import-status></div>`;
    this.renderStatus();
  }

  private renderStatus(): void {
    const box = this.root.querySelector<HTMLElement>('[data-import-status]');
    if (!box) return;
    const job = this.job;
    const done = job && job.status !== 'running';
    const progress = job
      ? `<div class="import-progress" data-phase="${escapeHtml(job.phase)}" data-status="${escapeHtml(job.status)}">
          <progress max="${Math.max(job.rows, 1)}" value="${job.status === 'running' ? (job.processed ?? 0) : Math.max(job.rows, 1)}"></progress>
          <span>${PHASES[job.phase] ? t(PHASES[job.phase]) : escapeHtml(job.phase)} · ${formatNumber(job.processed ?? 0)} / ${formatCount(job.rows, 'rows')}</span></div>`
      : '';
    const errors = job?.errors.length
      ? `${done && job.status === 'rejected' ? `<p class="bad small" data-import-rejected="${job.errors.length}">${t('importRejected')}</p>` : ''}<table class="scenario-table import-errors"><thead><tr><th>${t('row')}</th><th>${t('field')}</th><th>${t('reason')}</th></tr></thead><tbody>${job.errors
          .map((e) => `<tr data-error-row="${e.row}"><td>${e.row}</td><td>${escapeHtml(e.field)}</td><td>${escapeHtml(e.reason)}</td></tr>`)
          .join('')}</tbody></table>`
      : '';
    const outcome =
      done && job.status === 'valid'
        ? `<p class="small" data-import-outcome="valid">${t('importValid')} (${formatCount(job.rows, 'rows')})</p>`
        : done && job.status === 'imported'
          ? `<p class="small" data-import-outcome="imported">${t('imported')}: ${formatNumber(Number(job.imported ?? job.rows))}</p>`
          : '';
    box.innerHTML = `<div class="actions"><button type="button" data-import-action="check"${this.running || !this.file ? ' disabled' : ''}>${t('dryRun')}</button>
        <button type="button" data-import-action="commit"${this.running || !this.checked ? ' disabled' : ''}>${t('importCommit')}</button></div>
      ${progress}${outcome}${done && (job.status === 'imported' || job.status === 'valid') ? this.flaggedTable(job.sheltersFlagged ?? [], job.status === 'valid') : ''}${errors}${this.error ? `<p class="analysis-error small">${escapeHtml(this.error)}</p>` : ''}`;
  }
}
