import type { PairingCheck } from '../preload/api.js';
import { pullback } from './bridge.js';
import { byId } from './dom.js';
import { errorText } from './format.js';

/** The pairing wizard: user@host → fingerprint → the line to run there → live check. */

const CHECK_EVERY_MS = 2000;
const steps = ['step-target', 'step-fingerprint', 'step-server'] as const;
let checkTimer: ReturnType<typeof setTimeout> | undefined;

function show(step: (typeof steps)[number]) {
  steps.forEach((s, i) => {
    byId(s).hidden = s !== step;
    const label = byId(`step-${i + 1}-label`);
    if (s === step) label.setAttribute('aria-current', 'step');
    else label.removeAttribute('aria-current');
  });
  const first = byId(step).querySelector<HTMLElement>('input, button.primary');
  first?.focus();
}

function setError(id: string, err: unknown) {
  const box = byId(id);
  box.hidden = err === undefined;
  box.textContent = err === undefined ? '' : errorText(err);
}

async function connect() {
  setError('target-error', undefined);
  const button = byId<HTMLButtonElement>('connect');
  button.disabled = true;
  button.textContent = 'Connecting…';
  try {
    const target = byId<HTMLInputElement>('target').value;
    const offer = await pullback.pairStart(target);
    byId('fp-host').textContent = target.trim();
    byId('fingerprint').textContent = offer.fingerprint;
    byId('server-line').textContent = offer.serverLine;
    show('step-fingerprint');
  } catch (err) {
    setError('target-error', err);
  } finally {
    button.disabled = false;
    button.textContent = 'Continue';
  }
}

function renderCheck(result: PairingCheck) {
  const status = byId('check-status');
  status.replaceChildren();
  byId('done').hidden = result.status !== 'ok';
  byId('retry').hidden = result.status !== 'error';
  if (result.status === 'waiting') {
    const spinner = document.createElement('span');
    spinner.className = 'spinner';
    spinner.setAttribute('aria-hidden', 'true');
    status.append(spinner, 'Waiting for the backup host to let this machine in…');
  } else if (result.status === 'ok') {
    status.textContent = `Paired. The backup host knows this machine as “${result.client}”.`;
    byId('done').focus();
  } else {
    status.textContent = `The backup host could not be asked: ${result.message}`;
  }
}

async function check() {
  clearTimeout(checkTimer);
  let result: PairingCheck;
  try {
    result = await pullback.pairCheck();
  } catch (err) {
    result = { status: 'error', code: 'INTERNAL', message: errorText(err) };
  }
  renderCheck(result);
  if (result.status === 'waiting') checkTimer = setTimeout(() => void check(), CHECK_EVERY_MS);
}

async function confirm() {
  setError('confirm-error', undefined);
  try {
    await pullback.pairConfirm();
    show('step-server');
    renderCheck({ status: 'waiting' });
    void check();
  } catch (err) {
    setError('confirm-error', err);
  }
}

async function copyLine() {
  const text = byId('server-line').textContent ?? '';
  try {
    await navigator.clipboard.writeText(text);
    byId('copied').textContent = 'Copied.';
  } catch {
    // No clipboard permission: select the line so Ctrl+C copies it.
    const range = document.createRange();
    range.selectNodeContents(byId('server-line'));
    getSelection()?.removeAllRanges();
    getSelection()?.addRange(range);
    byId('copied').textContent = 'Selected: press Ctrl+C to copy.';
  }
}

byId<HTMLFormElement>('step-target').addEventListener('submit', (event) => {
  event.preventDefault();
  void connect();
});
byId('confirm').addEventListener('click', () => void confirm());
byId('back').addEventListener('click', () => show('step-target'));
byId('copy').addEventListener('click', () => void copyLine());
byId('retry').addEventListener('click', () => void check());
byId('done').addEventListener('click', () => {
  void pullback.openWindow('status');
  window.close();
});
show('step-target');
document.body.dataset.ready = 'true';
