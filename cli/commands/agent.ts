import { parseCommandArgs, parseIntegerOption } from '../args.js';
import { createAgent } from '../../core/agent/controller.js';
import { eventLine, logTimestamp, stateChangeLines } from '../../core/agent/event-lines.js';
import { needsAttention } from '../../core/agent/host-status.js';
import type { AgentEvent, AgentState } from '../../core/agent/types.js';
import { isErrorCode } from '../../core/errors.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';

const HELP = `Usage: pullback agent [--once] [--json] [--check-interval SECONDS]

Runs automatic backups without a tray, for servers and desktops: the same controller as the
tray app. A backup starts as soon as one is due (the last success is older than the interval)
and the backup host is reachable with its pinned host key, unless on battery, on a metered
connection or outside the allowed networks (see the schedule in the config). Logs one line per
event on stdout. SIGTERM or SIGINT cancel a running backup and exit 0; SIGHUP re-reads the
config (changes are also picked up at the next check).

Options:
  --once                  check once, run the backups that are due, wait for them, exit
                          (exit code: 0 ok or nothing due; 5 when a backup host needs you:
                          its host key changed or it no longer accepts this machine's key;
                          else the first failure's code)
  --json                  one JSON object per event instead of text lines
  --check-interval SECS   how often reachability and conditions are checked (default 60)

A systemd user unit ships as pullback-agent.service:
  systemctl --user enable --now pullback-agent.service`;

export async function agentCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    {
      once: { type: 'boolean' },
      json: { type: 'boolean' },
      'check-interval': { type: 'string' },
    },
    { command: 'agent' },
  );
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const seconds = parseIntegerOption(values['check-interval'], '--check-interval', 1, 86_400);
  const json = values.json ?? false;
  const once = values.once ?? false;
  const agent = createAgent({
    env: process.env,
    checkIntervalMs: (seconds ?? 60) * 1000,
    networkWatcher: !once,
  });

  let previous: AgentState | undefined;
  let worst = 0;
  const print = (line: string) => console.log(`${logTimestamp(Date.now())} ${line}`);
  agent.subscribe((event: AgentEvent) => {
    if (event.type === 'backup-failed' && event.entry.error && worst === 0) {
      const code = event.entry.error.code;
      worst = isErrorCode(code) ? exitCodeFor(code) : 1;
    }
    if (json) {
      if (event.type !== 'state')
        console.log(JSON.stringify({ time: logTimestamp(Date.now()), ...event }));
      return;
    }
    if (event.type === 'state') {
      for (const line of stateChangeLines(previous, event.state)) print(line);
      previous = event.state;
      return;
    }
    const line = eventLine(event);
    if (line) print(line);
  });

  await agent.start();
  if (once) {
    await agent.checkNow();
    await agent.whenIdle();
    const attention = agent.getState().hosts.filter(needsAttention);
    await agent.stop();
    for (const h of attention) {
      const what = h.hostKeyChange
        ? `host key changed: pinned ${h.hostKeyChange.pinned}, presented ${h.hostKeyChange.presented ?? 'unknown'}`
        : (h.lastError?.message ?? 'needs attention');
      const hint = h.lastError?.hint ?? '';
      if (json) {
        console.log(
          JSON.stringify({
            time: logTimestamp(Date.now()),
            type: 'attention',
            host: h.host,
            what,
            hint,
          }),
        );
      } else print(`host=${h.host} needs attention: ${what}. ${hint}`);
    }
    // A host that needs a person wins over a failure the next run may fix by itself.
    return attention.length > 0 ? EXIT.TRUST : worst;
  }
  if (!json) print(`agent started (checking every ${seconds ?? 60} s)`);
  const onHangup = () => void agent.reload();
  process.on('SIGHUP', onHangup);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  process.off('SIGHUP', onHangup);
  if (!json) print(`${signal}: stopping (a running backup is cancelled)`);
  await agent.stop();
  if (!json) print('agent stopped');
  return 0;
}
