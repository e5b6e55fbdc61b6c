import { spawn, type ChildProcess } from 'node:child_process';
import { findProgram } from '../network/network-manager.js';

/**
 * Tells the agent promptly when the network changes (addresses, routes; NetworkManager
 * connection changes where it runs), so reaching the home network starts a due backup at once
 * instead of at the next interval check. Bursts of changes are folded into one call.
 */
export interface NetworkWatcher {
  stop(): void;
}

export interface NetworkWatcherOptions {
  onChange: () => void;
  onProblem?: (message: string) => void;
  debounceMs?: number;
  env?: NodeJS.ProcessEnv;
}

export function watchNetwork(options: NetworkWatcherOptions): NetworkWatcher {
  const debounceMs = options.debounceMs ?? 1000;
  const path = options.env?.PATH ?? process.env.PATH;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const children: ChildProcess[] = [];

  const changed = () => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!stopped) options.onChange();
    }, debounceMs);
  };

  const follow = (program: string, args: string[]) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(child);
    child.stdout!.on('data', changed);
    child.once('error', (err) =>
      options.onProblem?.(`${program} ${args.join(' ')}: ${err.message}`),
    );
    child.once('exit', (code, signal) => {
      if (!stopped) {
        options.onProblem?.(
          `${program} ${args.join(' ')} exited (${signal ?? code}); network changes are noticed at the next interval check only`,
        );
      }
    });
  };

  const ip = findProgram('ip', path);
  if (ip) follow(ip, ['monitor', 'address', 'route']);
  else
    options.onProblem?.(
      '"ip" not found; network changes are noticed at the next interval check only',
    );
  const nmcli = findProgram('nmcli', path);
  if (nmcli) follow(nmcli, ['monitor']);

  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      }
    },
  };
}
