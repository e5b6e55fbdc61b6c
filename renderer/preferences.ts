import type { Preferences } from '../preload/api.js';
import { pullback } from './bridge.js';
import { byId, lines } from './dom.js';
import { errorText } from './format.js';

/** The preferences window: a plain form over the client config, saved through the preload API. */

const input = (id: string) => byId<HTMLInputElement>(id);
const area = (id: string) => byId<HTMLTextAreaElement>(id);
const removing = new Set<string>();

function renderHosts(prefs: Preferences) {
  const list = byId<HTMLUListElement>('host-list');
  byId('no-hosts').hidden = prefs.hosts.length > 0;
  list.replaceChildren(
    ...prefs.hosts.map((h) => {
      const li = document.createElement('li');
      const text = document.createElement('div');
      text.className = 'host-label';
      const name = document.createElement('strong');
      name.textContent = h.name;
      const where = document.createElement('div');
      where.textContent = `${h.user}@${h.address}${h.port === 22 ? '' : `:${h.port}`}`;
      const key = document.createElement('code');
      key.textContent = h.fingerprint;
      text.append(name, where, key);
      const remove = document.createElement('button');
      remove.type = 'button';
      const update = () => {
        const marked = removing.has(h.name);
        li.toggleAttribute('data-removing', marked);
        remove.textContent = marked ? `Keep ${h.name}` : `Remove ${h.name}`;
      };
      remove.addEventListener('click', () => {
        if (removing.has(h.name)) removing.delete(h.name);
        else removing.add(h.name);
        update();
      });
      update();
      li.append(text, remove);
      return li;
    }),
  );
}

function fill(prefs: Preferences) {
  removing.clear();
  renderHosts(prefs);
  area('sources').value = prefs.sources.join('\n');
  area('excludes').value = prefs.excludes.join('\n');
  input(prefs.mode === 'system' ? 'mode-system' : 'mode-user').checked = true;
  input('interval').value = String(prefs.intervalHours);
  input('overdue').value = String(prefs.overdueDays);
  input('battery').checked = prefs.runOnBattery;
  input('metered').checked = prefs.runOnMetered;
  area('networks').value = prefs.networks.join('\n');
  input('bwlimit').value = String(prefs.bandwidthLimitKiB);
  input('notify-finished').checked = prefs.notifications.finished;
  input('notify-failed').checked = prefs.notifications.failed;
  input('notify-overdue').checked = prefs.notifications.overdue;
  input('start-on-login').checked = prefs.startOnLogin;
}

function showError(err: unknown) {
  const box = byId('save-error');
  box.hidden = err === undefined;
  box.textContent = err === undefined ? '' : errorText(err);
}

function showNotes(notes: string[]) {
  const box = byId('save-notes');
  box.hidden = notes.length === 0;
  box.textContent = notes.join(' ');
}

async function save() {
  showError(undefined);
  showNotes([]);
  byId('saved').textContent = '';
  try {
    const saved = await pullback.saveConfig({
      sources: lines(area('sources').value),
      excludes: lines(area('excludes').value),
      mode: input('mode-system').checked ? 'system' : 'user',
      intervalHours: input('interval').valueAsNumber,
      overdueDays: input('overdue').valueAsNumber,
      runOnBattery: input('battery').checked,
      runOnMetered: input('metered').checked,
      networks: lines(area('networks').value),
      bandwidthLimitKiB: Math.max(0, Math.round(input('bwlimit').valueAsNumber || 0)),
      notifications: {
        finished: input('notify-finished').checked,
        failed: input('notify-failed').checked,
        overdue: input('notify-overdue').checked,
      },
      startOnLogin: input('start-on-login').checked,
      removeHosts: [...removing],
    });
    fill(saved);
    byId('saved').textContent = 'Saved.';
    showNotes(saved.notes);
  } catch (err) {
    showError(err);
  }
}

async function load() {
  try {
    fill(await pullback.getConfig());
    document.body.dataset.ready = 'true';
  } catch (err) {
    showError(err);
  }
}

byId<HTMLFormElement>('prefs').addEventListener('submit', (event) => {
  event.preventDefault();
  void save();
});
byId('revert').addEventListener('click', () => void load());
byId('pair').addEventListener('click', () => void pullback.openWindow('pairing'));
void load();
