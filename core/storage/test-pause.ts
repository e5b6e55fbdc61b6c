/**
 * Crash tests need a process stopped at an exact step (e.g. between writing a snapshot's json
 * and renaming its directory) to kill it there with SIGKILL. Only when PULLBACK_TEST_PAUSE_AT
 * names this very point: say so on stderr, then wait forever. Otherwise a no-op.
 */
export function pauseForTest(point: string): Promise<void> {
  if (process.env.PULLBACK_TEST_PAUSE_AT !== point) return Promise.resolve();
  process.stderr.write(`PULLBACK_TEST_PAUSED ${point}\n`);
  return new Promise(() => {
    setInterval(() => {}, 60_000);
  });
}
