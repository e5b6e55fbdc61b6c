import type { AgentState, HistoryEntry, HostStatus } from '../preload/api.js';
import { pullback } from './bridge.js';
import { byId, part } from './dom.js';
import {
  asSentence,
  errorText,
  formatBytes,
  formatDateTime,
  formatDuration,
  formatWhen,
  phaseBadge,
  transferText,
} from './format.js';

/** The status window: one card per backup host, then the recent history. */

const hostsList = byId<HTMLUListElement>('hosts');
const template = byId<HTMLTemplateElement>('host-card');
const pageError = byId('page-error');
const hostErrors = new Map<string, string>();

function showPageError(err: unknown | undefined) {
  pageError.hidden = err === undefined;
  pageError.textContent = err === undefined ? '' : errorText(err);
}

function cardFor(host: string): HTMLLIElement {
  const existing = hostsList.querySelector<HTMLLIElement>(`li[data-host="${CSS.escape(host)}"]`);
  if (existing) return existing;
  const card = (template.content.firstElementChild as HTMLLIElement).cloneNode(
    true,
  ) as HTMLLIElement;
  card.dataset.host = host;
  const title = part(card, '.host-name');
  title.id = `host-${host}`;
  card.setAttribute('aria-labelledby', title.id);
  part<HTMLButtonElement>(card, '.backup-now').addEventListener('click', () => act(host, 'backup'));
  part<HTMLButtonElement>(card, '.cancel').addEventListener('click', () => act(host, 'cancel'));
  part<HTMLButtonElement>(card, '.pair-again').addEventListener(
    'click',
    () => void pullback.openWindow('pairing'),
  );
  hostsList.append(card);
  return card;
}

async function act(host: string, what: 'backup' | 'cancel') {
  hostErrors.delete(host);
  try {
    if (what === 'backup') await pullback.backupNow(host);
    else await pullback.cancel(host);
  } catch (err) {
    // The card names the host already: "home: The backup host…" → "The backup host…".
    const text = errorText(err);
    hostErrors.set(host, text.startsWith(`${host}: `) ? text.slice(host.length + 2) : text);
  }
  render(await pullback.getState());
}

// Shown on their own (reachability, retry time): not repeated in "Waiting: …".
const SHOWN_APART =
  /^(the backup host is not reachable|the backup host's host key changed|trying again after)/;

/** What the host is doing, in sentences that agree with the badge and the facts below. */
function detailOf(h: HostStatus): string {
  if (h.phase === 'running' && h.progress?.stage !== 'transferring') return 'Connecting…';
  if (h.phase === 'running') return `Backing up to ${h.address}`;
  if (h.hostKeyChange) {
    return `No backups go to ${h.address} until you pair with it again (or find out why its key changed).`;
  }
  const sentences: string[] = [];
  if (h.reachable === 'unreachable') sentences.push(`${h.address} does not answer right now.`);
  const reasons = (h.waitingFor ?? '').split('; ').filter((r) => r && !SHOWN_APART.test(r));
  if (reasons.length > 0) sentences.push(`Waiting: ${reasons.join('; ')}.`);
  // The back-off delays only a backup that is due; before that, "Next backup" says when.
  const due = !h.nextDue || Date.parse(h.nextDue) <= Date.now();
  if (h.retryAt && due) sentences.push(`Trying again ${formatWhen(h.retryAt)}.`);
  return sentences.length > 0 ? sentences.join(' ') : h.address;
}

/** "now" once it is due (also when overdue), never a due time in the past. */
function nextText(h: HostStatus, pausedUntil: string | undefined): string {
  if (h.phase === 'running') return 'now';
  if (h.hostKeyChange) return 'after you pair again';
  if (pausedUntil) return 'when automatic backups are resumed';
  const next = [h.nextDue, h.retryAt]
    .filter((t): t is string => !!t)
    .sort()
    .at(-1);
  if (!next || Date.parse(next) <= Date.now()) {
    return h.reachable === 'unreachable' ? 'now, as soon as the backup host answers' : 'now';
  }
  return formatWhen(next);
}

function progressText(h: HostStatus): string {
  const p = h.progress;
  return p?.stage === 'transferring' ? transferText(p) : 'Starting…';
}

function renderHost(h: HostStatus, pausedUntil: string | undefined) {
  const card = cardFor(h.host);
  card.dataset.phase = h.phase;
  part(card, '.host-name').textContent = h.host;
  const badge = part(card, '.phase');
  const { text, tone } = phaseBadge(h);
  badge.textContent = text;
  badge.dataset.tone = tone;
  part(card, '.detail').textContent = detailOf(h);
  const running = h.phase === 'running';
  part(card, '.progress-box').hidden = !running;
  const bar = part<HTMLProgressElement>(card, 'progress');
  bar.value = h.progress?.percent ?? 0;
  bar.setAttribute('aria-label', `Backup to ${h.host}`);
  part(card, '.progress-text').textContent = running ? progressText(h) : '';
  part(card, '.last').textContent = formatWhen(h.lastSuccess);
  part(card, '.next').textContent = nextText(h, pausedUntil);
  // What happened and what to do: two sentences, each in its own paragraph.
  const refused = hostErrors.get(h.host);
  const shown = refused
    ? { message: refused, hint: '' }
    : h.lastError && !running
      ? h.lastError
      : undefined;
  part(card, '.host-error').hidden = !shown;
  part(card, '.error-message').textContent = shown ? asSentence(shown.message) : '';
  part(card, '.error-hint').textContent = shown ? asSentence(shown.hint) : '';
  part(card, '.error-hint').hidden = !shown?.hint;
  const keyChange = h.hostKeyChange;
  part(card, '.key-change').hidden = !keyChange;
  part(card, '.key-pinned').textContent = keyChange?.pinned ?? '';
  part(card, '.key-presented').textContent = keyChange?.presented ?? 'not known yet';
  part(card, '.pair-again').hidden = !keyChange;
  part(card, '.backup-now').hidden = !!keyChange;
  part<HTMLButtonElement>(card, '.backup-now').disabled = running;
  part(card, '.cancel').hidden = !running;
}

let lastFinished = '';

function render(state: AgentState) {
  byId('unpaired').hidden = !state.needsPairing;
  byId('paused').hidden = !state.pausedUntil;
  if (state.pausedUntil) {
    byId('paused-text').textContent = state.pausedUntil.startsWith('9999')
      ? 'Automatic backups are paused until you resume them.'
      : `Automatic backups are paused until ${formatWhen(state.pausedUntil)}.`;
  }
  const names = new Set(state.hosts.map((h) => h.host));
  for (const card of hostsList.querySelectorAll<HTMLLIElement>('li[data-host]')) {
    if (!names.has(card.dataset.host ?? '')) card.remove();
  }
  state.hosts.forEach((h) => renderHost(h, state.pausedUntil));
  // History changes only when a run ends; reload it then.
  const finished = state.hosts.map((h) => `${h.lastAttempt}/${h.phase}`).join();
  if (finished !== lastFinished) {
    lastFinished = finished;
    void loadHistory();
  }
}

// The headings again, for the stacked layout of narrow windows (and 200 % zoom).
const HISTORY_COLUMNS = ['Finished', 'Host', 'Result', 'Files', 'Size', 'Took'];

/** A finished time that opens the Restore window at the snapshot that run made. */
function snapshotLink(host: string, snapshot: string, text: string): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'link';
  button.textContent = text;
  button.title = 'Browse and restore from this snapshot';
  button.dataset.snapshot = snapshot;
  button.addEventListener('click', () => {
    pullback.openWindow('restore', { host, snapshot }).catch((err: unknown) => showPageError(err));
  });
  return button;
}

function historyRow(e: HistoryEntry): HTMLTableRowElement {
  const row = document.createElement('tr');
  const cells = [
    formatDateTime(e.finishedAt),
    e.host,
    e.result === 'success' ? 'Backed up' : e.result === 'failed' ? 'Failed' : 'Cancelled',
    e.files === undefined ? '–' : e.files.toLocaleString(),
    e.totalBytes === undefined ? '–' : formatBytes(e.totalBytes),
    formatDuration(e.durationMs / 1000),
  ];
  cells.forEach((text, i) => {
    const td = document.createElement('td');
    td.dataset.label = HISTORY_COLUMNS[i];
    if (i === 0 && e.snapshot) td.append(snapshotLink(e.host, e.snapshot, text));
    else td.textContent = text;
    if (i === 2) {
      td.className = `result-${e.result}`;
      if (e.error) td.title = e.error.message;
    }
    if (i >= 3) td.classList.add('num');
    row.append(td);
  });
  return row;
}

async function loadHistory() {
  const entries = await pullback.getHistory(undefined, 10);
  const table = byId<HTMLTableElement>('history');
  table.tBodies[0]!.replaceChildren(...entries.map(historyRow));
  table.hidden = entries.length === 0;
  byId('history-empty').hidden = entries.length > 0;
}

byId('open-preferences').addEventListener('click', () => void pullback.openWindow('preferences'));
byId('open-pairing').addEventListener('click', () => void pullback.openWindow('pairing'));
byId('resume').addEventListener('click', () => void pullback.pause(null));

pullback.onEvent((event) => {
  if (event.type === 'state') render(event.state);
});
pullback.getState().then(
  (state) => {
    render(state);
    document.body.dataset.ready = 'true';
  },
  (err) => showPageError(err),
);
