import type { OneMapApp } from '../app.ts';
import { apiKey, setApiKey } from '../auth.ts';
import { byId, escapeHtml } from '../dom.ts';
import { lang, onLang, pick, setLang, t } from '../i18n.ts';
import { renderLayerPanel } from '../legend.ts';
import type { Popup } from '../popup.ts';
import { CoveragePanel } from './coverage-panel.ts';
import { NearestShelters } from './nearest.ts';
import { PrintPanel } from './print-panel.ts';
import { RiskPanel } from './risk-panel.ts';
import { ScenarioPanel } from './scenario-panel.ts';
import { SIDE_TABS, SideTabs } from './side-tabs.ts';
import { EditPanel } from './edit-panel.ts';
import { FeatureActions } from './feature-actions.ts';
import { ImportPanel } from './import-panel.ts';

/**
 * Planner mode (the default): district picker, language, layer switcher with
 * legend, and the side panel's views (coverage, the risk table, scenarios, print)
 * beside the map; nearest shelters from any point.
 */
export function startPlanner(app: OneMapApp, popup: Popup): void {
  const tools = byId('topbar-tools');
  const layersPanel = byId('layers-panel');
  const side = byId('side');

  const renderTools = () => {
    const options = [`<option value="">${t('allDistricts')}</option>`]
      .concat(app.admin.districts.map((d) => `<option value="${escapeHtml(d.id)}"${d.id === app.state.district ? ' selected' : ''}>${escapeHtml(pick(d.name))}</option>`))
      .join('');
    const keyed = apiKey() !== null;
    tools.innerHTML = `<label class="district-picker">${t('district')} <select id="district">${options}</select></label>
      <details class="key-box"><summary title="${escapeHtml(t('apiKeyTitle'))}">${keyed ? t('apiKeyActive') : t('apiKey')}</summary>
        <form id="key-form">${
          keyed
            ? `<button type="button" id="key-forget">${t('apiKeyForget')}</button>`
            : `<input type="password" id="key-input" autocomplete="off" spellcheck="false" placeholder="om_…" aria-label="${escapeHtml(t('apiKey'))}"><button type="submit">${t('apiKeySave')}</button>`
        }</form></details>
      <button type="button" id="lang-toggle" title="${t('languageTitle')}" lang="${lang() === 'zh' ? 'en' : 'zh'}">${t('language')}</button>`;
    // A key changes what the server shows (layers, fields, tiles): start again with it.
    byId('key-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const value = (document.getElementById('key-input') as HTMLInputElement | null)?.value.trim();
      if (value) {
        setApiKey(value);
        location.reload();
      }
    });
    document.getElementById('key-forget')?.addEventListener('click', () => {
      setApiKey(null);
      location.reload();
    });
    byId<HTMLSelectElement>('district').addEventListener('change', (e) => app.setDistrict((e.target as HTMLSelectElement).value || null));
    byId('lang-toggle').addEventListener('click', () => setLang(lang() === 'zh' ? 'en' : 'zh'));
  };

  const renderLayers = () => {
    layersPanel.innerHTML = `<details open><summary id="layers-heading">${t('layers')} · ${t('legend')}</summary><div class="layer-list"></div></details>`;
    renderLayerPanel(layersPanel.querySelector('.layer-list')!, app.catalogue, app.theme, {
      switchable: true,
      isOn: (id) => app.isOn(id),
      onToggle: (id, on) => app.setOn(id, on),
      inRange: (id) => app.inRange(id),
    });
  };

  onLang(() => {
    byId('app-title').textContent = t('appTitle');
    renderTools();
    renderLayers();
  });
  app.onLayersChange(() => {
    for (const section of layersPanel.querySelectorAll<HTMLElement>('[data-legend-layer]')) {
      section.classList.toggle('off', !app.isOn(section.dataset.legendLayer!));
    }
  });
  app.map.on('moveend', () => {
    for (const section of layersPanel.querySelectorAll<HTMLElement>('[data-legend-layer]')) {
      section.classList.toggle('out-of-range', !app.inRange(section.dataset.legendLayer!));
    }
  });
  app.onDistrictChange(() => {
    const select = document.getElementById('district') as HTMLSelectElement | null;
    if (select) select.value = app.state.district ?? '';
  });

  const keyed = apiKey() !== null;
  const tabs = new SideTabs(side, keyed ? SIDE_TABS : SIDE_TABS.filter((tab) => tab !== 'data'));
  new CoveragePanel(app, tabs.panes.coverage, popup);
  const risk = new RiskPanel(app, tabs.panes.risk, () => tabs.active === 'risk');
  tabs.onShow(() => risk.refresh());
  new ScenarioPanel(app, tabs.panes.scenario, popup);
  new PrintPanel(app, tabs.panes.print);
  new NearestShelters(app);
  if (keyed) {
    // Editing and imports: the server checks the key's role and districts on every request.
    const editRoot = document.createElement('div');
    const importRoot = document.createElement('div');
    tabs.panes.data.append(editRoot, importRoot);
    const editor = new EditPanel(app, editRoot, popup, () => tabs.show('data'));
    popup.extras = new FeatureActions(app, editor);
    new ImportPanel(app, importRoot);
  }
}
