import type { FileVersion, RemoteEntry, RestoreResult, SnapshotSummary } from '../preload/api.js';
import { pullback } from './bridge.js';
import { byId } from './dom.js';
import {
  errorText as rawErrorText,
  formatBytes,
  formatDateTime,
  formatMode,
  safeText,
  transferText,
} from './format.js';

/**
 * The Restore window: a backup host, a snapshot on its timeline, the folders of that snapshot
 * with the mode, owner, size and mtime the source had, a file's versions, and a restore of the
 * selected files and folders next to the originals or into a folder.
 * Everything from the backup host is untrusted: it reaches the page as textContent through
 * safeText (control characters shown as escapes), never as markup.
 */

/** Errors may quote what the backup host sent: shown as safe text like everything else from it. */
const errorText = (err: unknown) => safeText(rawErrorText(err));

const hostSelect = byId<HTMLSelectElement>('host');
const timeline = byId<HTMLOListElement>('timeline');
const entriesTable = byId<HTMLTableElement>('entries');
const versionsTable = byId<HTMLTableElement>('versions-table');
const folderInput = byId<HTMLInputElement>('to-folder');
const startButton = byId<HTMLButtonElement>('restore-start');

const view = {
  host: '',
  snapshots: [] as SnapshotSummary[],
  snapshot: '',
  path: '/',
  /** selected paths in the current snapshot, with what they are */
  selected: new Map<string, RemoteEntry>(),
  restoring: false,
  /** the file whose versions are shown, if any */
  versionsOf: undefined as RemoteEntry | undefined,
};

function show(id: string, text: string | undefined) {
  const el = byId(id);
  el.hidden = !text;
  el.textContent = text ?? '';
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  className?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function button(text: string, onClick: () => void, className?: string): HTMLButtonElement {
  const b = el('button', text, className);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

function cell(text: string, label: string, className?: string): HTMLTableCellElement {
  const td = el('td', text, className);
  td.dataset.label = label;
  return td;
}

function parentOf(path: string): string {
  const cut = path.replace(/\/+$/, '').lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

function snapshotTime(id: string): string {
  const s = view.snapshots.find((x) => x.id === id);
  return s ? formatDateTime(s.finishedAt) : safeText(id);
}

// ---- hosts and snapshots -------------------------------------------------------------------

async function loadSnapshots(wanted?: string) {
  const host = view.host;
  // Nothing of the last host's snapshot stays on screen.
  view.snapshots = [];
  view.snapshot = '';
  view.selected.clear();
  renderSelection();
  timeline.replaceChildren();
  byId('crumbs').replaceChildren();
  entriesTable.hidden = true;
  show('entries-status', undefined);
  show('snapshot-facts', undefined);
  show('snapshots-status', `Asking ${host} for its snapshots…`);
  let snapshots: SnapshotSummary[];
  try {
    snapshots = await pullback.listSnapshots(host);
  } catch (err) {
    if (host !== view.host) return;
    show('snapshots-status', undefined);
    show('page-error', `Cannot list the snapshots on ${host}: ${errorText(err)}`);
    return;
  }
  if (host !== view.host) return; // another host was picked meanwhile
  view.snapshots = snapshots;
  show('page-error', undefined);
  if (view.snapshots.length === 0) {
    show('snapshots-status', `There are no snapshots on ${view.host} yet.`);
    return;
  }
  let note: string | undefined;
  let pick = view.snapshots.at(-1)!.id;
  if (wanted && view.snapshots.some((s) => s.id === wanted)) pick = wanted;
  else if (wanted) {
    note = `Snapshot ${safeText(wanted)} is no longer on ${view.host}; showing the newest.`;
  }
  show('snapshots-status', note);
  timeline.replaceChildren(...view.snapshots.map(timelineItem));
  await selectSnapshot(pick);
}

/** One point on the timeline; a new day gets its date above the time. */
function timelineItem(s: SnapshotSummary, i: number): HTMLLIElement {
  const li = el('li');
  const when = new Date(s.finishedAt);
  const day = when.toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
  const before = view.snapshots[i - 1];
  const newDay =
    !before || new Date(before.finishedAt).toLocaleDateString() !== when.toLocaleDateString();
  const b = button('', () => void selectSnapshot(s.id), 'point');
  b.dataset.snapshot = s.id;
  b.setAttribute('aria-pressed', 'false');
  b.setAttribute('aria-label', `Snapshot of ${formatDateTime(s.finishedAt)}`);
  b.append(
    el('span', newDay ? day : '', 'point-day'),
    el('span', '', 'point-dot'),
    el(
      'span',
      when.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }),
      'point-time',
    ),
  );
  li.append(b);
  return li;
}

async function selectSnapshot(id: string) {
  view.snapshot = id;
  view.selected.clear();
  renderSelection();
  for (const b of timeline.querySelectorAll<HTMLButtonElement>('button.point')) {
    const on = b.dataset.snapshot === id;
    b.setAttribute('aria-pressed', String(on));
    if (on) b.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }
  const s = view.snapshots.find((x) => x.id === id);
  if (s) {
    const facts = [`${formatDateTime(s.finishedAt)}`, `snapshot ${safeText(s.id)}`];
    if (s.files !== undefined) facts.push(`${s.files.toLocaleString()} files`);
    if (s.totalBytes !== undefined) facts.push(formatBytes(s.totalBytes));
    if (s.warnings.length > 0) facts.push(`${s.warnings.length} warnings`);
    show('snapshot-facts', facts.join(' · '));
  }
  // The versions shown mark the one in this snapshot: mark it again.
  if (view.versionsOf && !byId('versions').hidden) void showVersions(view.versionsOf);
  await browse(view.path);
}

// Left and right arrows walk the timeline, as in a radio group.
timeline.addEventListener('keydown', (event) => {
  if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
  const i = view.snapshots.findIndex((s) => s.id === view.snapshot);
  const next = view.snapshots[i + (event.key === 'ArrowLeft' ? -1 : 1)];
  if (!next) return;
  event.preventDefault();
  void selectSnapshot(next.id);
  timeline
    .querySelector<HTMLButtonElement>(`button[data-snapshot="${CSS.escape(next.id)}"]`)
    ?.focus();
});

// ---- folders -------------------------------------------------------------------------------

async function browse(path: string) {
  const snapshot = view.snapshot;
  show('entries-status', 'Loading…');
  let listing: { entries: RemoteEntry[] };
  try {
    listing = await pullback.listEntries(view.host, snapshot, path);
  } catch (err) {
    if (snapshot !== view.snapshot) return;
    // A folder that this snapshot does not have: go up until one exists.
    if (path !== '/' && /^NOT_FOUND: /.test(err instanceof Error ? err.message : '')) {
      return browse(parentOf(path));
    }
    entriesTable.hidden = true;
    show('entries-status', `Cannot list ${safeText(path)}: ${errorText(err)}`);
    return;
  }
  if (snapshot !== view.snapshot) return; // another snapshot was picked meanwhile
  view.path = path;
  renderCrumbs(path);
  const entries = [...listing.entries].sort(
    (a, b) => Number(b.type === 'dir') - Number(a.type === 'dir') || (a.name < b.name ? -1 : 1),
  );
  entriesTable.tBodies[0]!.replaceChildren(...entries.map(entryRow));
  entriesTable.hidden = entries.length === 0;
  show('entries-status', entries.length === 0 ? 'This folder is empty.' : undefined);
}

function renderCrumbs(path: string) {
  const crumbs = byId('crumbs');
  const parts = path.split('/').filter(Boolean);
  const items: HTMLElement[] = [button('/', () => void browse('/'), 'link crumb')];
  parts.forEach((part, i) => {
    const to = '/' + parts.slice(0, i + 1).join('/');
    if (i > 0) items.push(el('span', '/', 'crumb-sep'));
    const last = i === parts.length - 1;
    const crumb = last
      ? el('span', safeText(part), 'crumb')
      : button(safeText(part), () => void browse(to), 'link crumb');
    if (last) crumb.setAttribute('aria-current', 'location');
    items.push(crumb);
  });
  crumbs.replaceChildren(...items);
}

function entryRow(e: RemoteEntry): HTMLTableRowElement {
  const row = el('tr');
  const name = safeText(e.name);
  row.dataset.name = e.name;
  row.dataset.type = e.type;

  const pick = el('input');
  pick.type = 'checkbox';
  pick.checked = view.selected.has(e.path);
  pick.setAttribute('aria-label', `Select ${name}`);
  pick.addEventListener('change', () => {
    if (pick.checked) view.selected.set(e.path, e);
    else view.selected.delete(e.path);
    renderSelection();
  });
  const pickCell = cell('', 'Select');
  pickCell.append(pick);

  const nameCell = cell('', 'Name', 'name');
  if (e.type === 'dir') {
    nameCell.append(button(`${name}/`, () => void browse(e.path), 'link open-folder'));
  } else {
    const open = button(name, () => void showVersions(e), 'link open-versions');
    open.title = 'Show the versions of this file';
    nameCell.append(open);
    if (e.type === 'symlink')
      nameCell.append(el('span', ` → ${safeText(e.target ?? '')}`, 'muted'));
  }

  row.append(
    pickCell,
    nameCell,
    cell(formatMode(e.type, e.mode), 'Mode', 'mode'),
    cell(`${e.uid}:${e.gid}`, 'Owner', 'num'),
    cell(e.type === 'dir' ? '–' : formatBytes(e.size), 'Size', 'num'),
    cell(formatDateTime(e.mtime), 'Modified', 'num'),
  );
  return row;
}

// ---- versions ------------------------------------------------------------------------------

async function showVersions(e: RemoteEntry) {
  view.versionsOf = e;
  const section = byId('versions');
  section.hidden = false;
  byId('versions-path').textContent = safeText(e.path);
  versionsTable.hidden = true;
  show('versions-status', 'Looking through the snapshots…');
  section.scrollIntoView({ block: 'nearest' });
  let versions: FileVersion[];
  try {
    versions = await pullback.fileVersions(view.host, e.path);
  } catch (err) {
    show('versions-status', `Cannot list the versions: ${errorText(err)}`);
    return;
  }
  if (view.versionsOf !== e) return; // another file was clicked meanwhile
  show(
    'versions-status',
    versions.length === 1
      ? 'One version: it never changed between snapshots.'
      : `${versions.length} versions, oldest first.`,
  );
  versionsTable.tBodies[0]!.replaceChildren(...versions.map((v) => versionRow(e, v)));
  versionsTable.hidden = versions.length === 0;
}

function versionRow(e: RemoteEntry, v: FileVersion): HTMLTableRowElement {
  const row = el('tr');
  const newest = v.snapshots.at(-1) ?? '';
  const here = v.snapshots.includes(view.snapshot);
  if (here) row.dataset.current = 'true';
  const first = v.snapshots[0] ?? '';
  const kept =
    v.snapshots.length === 1
      ? snapshotTime(first)
      : `${v.snapshots.length} snapshots, ${snapshotTime(first)} to ${snapshotTime(newest)}`;
  const actions = cell('', 'Actions');
  if (here) actions.append(el('span', 'in this snapshot', 'badge'));
  else {
    actions.append(
      button('Go to its snapshot', () => {
        view.path = parentOf(e.path);
        void selectSnapshot(newest);
      }),
    );
  }
  actions.append(
    button(
      'Restore this version',
      () => void runRestore(newest, [e.path], `this version of ${safeText(e.name)}`),
      'restore-version',
    ),
  );
  row.append(
    cell(formatDateTime(v.mtime), 'Modified', 'num'),
    cell(v.type === 'dir' ? '–' : formatBytes(v.size), 'Size', 'num'),
    cell(kept, 'Kept in'),
    actions,
  );
  return row;
}

byId('versions-close').addEventListener('click', () => {
  byId('versions').hidden = true;
});

// ---- selection and restore ---------------------------------------------------------------

function renderSelection() {
  const n = view.selected.size;
  byId('selection-text').textContent =
    n === 0
      ? 'Nothing selected yet: tick files or folders above.'
      : `${n === 1 ? 'One item' : `${n} items`} from the snapshot of ${snapshotTime(view.snapshot)}:`;
  byId('selection-list').replaceChildren(
    ...[...view.selected.values()].map((e) =>
      el('li', safeText(e.path) + (e.type === 'dir' ? '/' : '')),
    ),
  );
  startButton.disabled = n === 0 || view.restoring;
  startButton.textContent = n > 1 ? `Restore ${n} items` : 'Restore';
  byId<HTMLButtonElement>('selection-clear').disabled = n === 0 || view.restoring;
}

/** The chosen folder, or undefined for next to the originals; throws a sentence if unusable. */
function destination(): string | undefined {
  if (!byId<HTMLInputElement>('where-folder').checked) return undefined;
  const folder = folderInput.value.trim();
  if (!folder) throw new Error('Type or choose the folder to restore into.');
  if (!folder.startsWith('/'))
    throw new Error(`The folder must be a full path starting with "/": ${folder}`);
  return folder;
}

function showResult(r: RestoreResult, what: string) {
  const result = byId('restore-result');
  result.hidden = false;
  byId('result-summary').textContent =
    `Restored ${what} from the snapshot of ${snapshotTime(r.snapshot)}:`;
  byId('result-items').replaceChildren(
    ...r.items.map((item) => {
      const li = el('li');
      li.append(
        el('code', safeText(item.path)),
        el('span', ' → '),
        el('code', safeText(item.restoredTo), 'restored-to'),
      );
      return li;
    }),
  );
  byId('result-skipped').textContent =
    r.skipped === 0
      ? 'Nothing was skipped.'
      : `${r.skipped.toLocaleString()} ${r.skipped === 1 ? 'entry was' : 'entries were'} skipped: you could not have read ${r.skipped === 1 ? 'it' : 'them'} on this machine.`;
  byId('result-warnings').replaceChildren(...r.warnings.map((w) => el('li', safeText(w), 'error')));
}

async function runRestore(snapshot: string, paths: string[], what: string) {
  if (view.restoring) return;
  show('restore-error', undefined);
  byId('restore-result').hidden = true;
  let to: string | undefined;
  try {
    to = destination();
  } catch (err) {
    show('restore-error', errorText(err));
    return;
  }
  view.restoring = true;
  renderSelection();
  document.body.dataset.restoring = 'true';
  byId('restore-cancel').hidden = false;
  byId('restore-progress').hidden = false;
  byId<HTMLProgressElement>('restore-bar').value = 0;
  byId('restore-progress-text').textContent = 'Starting…';
  for (const b of document.querySelectorAll<HTMLButtonElement>('button.restore-version'))
    b.disabled = true;
  try {
    const result = await pullback.restore({
      host: view.host,
      snapshot,
      paths,
      ...(to !== undefined && { to }),
    });
    showResult(result, what);
  } catch (err) {
    const cancelled = /^CANCELLED: /.test(err instanceof Error ? err.message : '');
    show(
      'restore-error',
      cancelled ? 'The restore was cancelled.' : `The restore failed: ${errorText(err)}`,
    );
  } finally {
    view.restoring = false;
    delete document.body.dataset.restoring;
    byId('restore-cancel').hidden = true;
    byId('restore-progress').hidden = true;
    for (const b of document.querySelectorAll<HTMLButtonElement>('button.restore-version'))
      b.disabled = false;
    renderSelection();
  }
}

startButton.addEventListener('click', () => {
  const n = view.selected.size;
  void runRestore(view.snapshot, [...view.selected.keys()], n === 1 ? 'one item' : `${n} items`);
});
byId('restore-cancel').addEventListener('click', () => void pullback.cancelRestore());
byId('selection-clear').addEventListener('click', () => {
  view.selected.clear();
  for (const box of entriesTable.querySelectorAll<HTMLInputElement>('input[type=checkbox]'))
    box.checked = false;
  renderSelection();
});
folderInput.addEventListener('input', () => {
  byId<HTMLInputElement>('where-folder').checked = true;
});
byId('choose-folder').addEventListener('click', () => {
  pullback.chooseFolder().then(
    (folder) => {
      if (folder === null) return;
      folderInput.value = folder;
      byId<HTMLInputElement>('where-folder').checked = true;
    },
    (err: unknown) => show('restore-error', errorText(err)),
  );
});

/** A backup to this host just finished: its snapshot joins the timeline, the view stays. */
async function refreshTimeline() {
  const host = view.host;
  const snapshots = await pullback.listSnapshots(host);
  if (host !== view.host) return;
  view.snapshots = snapshots;
  timeline.replaceChildren(...snapshots.map(timelineItem));
  for (const b of timeline.querySelectorAll<HTMLButtonElement>('button.point')) {
    b.setAttribute('aria-pressed', String(b.dataset.snapshot === view.snapshot));
  }
}

pullback.onEvent((event) => {
  if (event.type === 'backup-finished' && event.host === view.host) {
    // Errors here show when a snapshot is picked next.
    (view.snapshots.length === 0 ? loadSnapshots() : refreshTimeline()).catch(() => {});
    return;
  }
  if (event.type !== 'restore-progress' || !view.restoring) return;
  byId<HTMLProgressElement>('restore-bar').value = event.progress.percent;
  byId('restore-progress-text').textContent =
    `${transferText(event.progress)} · ${event.progress.files.toLocaleString()} files`;
});

hostSelect.addEventListener('change', () => {
  view.host = hostSelect.value;
  view.path = '/';
  byId('versions').hidden = true;
  void loadSnapshots();
});

// ---- start: the host and snapshot asked for (a status window row), else the first host ----

async function start() {
  const query = new URLSearchParams(location.search);
  const context = await pullback.restoreContext();
  byId('choose-folder').hidden = !context.folderPicker;
  hostSelect.replaceChildren(
    ...context.hosts.map((h) => {
      const option = el('option', h);
      option.value = h;
      return option;
    }),
  );
  const wantedHost = query.get('host');
  view.host =
    wantedHost && context.hosts.includes(wantedHost) ? wantedHost : (context.hosts[0] ?? '');
  hostSelect.value = view.host;
  document.body.dataset.ready = 'true';
  if (!view.host) {
    show(
      'snapshots-status',
      'Pair with a backup host first: there is nothing to restore from yet.',
    );
    return;
  }
  await loadSnapshots(query.get('snapshot') ?? undefined);
}

start().catch((err: unknown) => {
  show('page-error', errorText(err));
  document.body.dataset.ready = 'true';
});
