import { asPullbackError } from '../errors.js';
import {
  hostRecordsStamp,
  newHostRecord,
  readHostRecords,
  updateHostRecord,
  type HostRecord,
  type HostRecords,
} from './status-store.js';

/**
 * The controller's view of the status file: what it last read or wrote, re-read whenever
 * another process (a `pullback backup` beside the agent) renamed a new file into place. Every
 * change is a read-change-write of the newest file, so nobody's run is lost.
 */
export class RecordBook {
  private records: HostRecords = {};
  private stamp = '';

  constructor(
    private readonly stateDir: string,
    private readonly clock: () => number,
    private readonly log: (message: string) => void,
  ) {
    this.refresh();
  }

  refresh(): void {
    const stamp = hostRecordsStamp(this.stateDir);
    if (stamp === this.stamp) return;
    this.records = readHostRecords(this.stateDir);
    this.stamp = stamp;
  }

  has(name: string): boolean {
    return this.records[name] !== undefined;
  }

  /** The host's record (a fresh one, not yet written, for a host never seen). */
  get(name: string): HostRecord {
    this.records[name] ??= newHostRecord(this.clock());
    return this.records[name];
  }

  update(name: string, change: (record: HostRecord) => void): void {
    this.write(() => updateHostRecord(this.stateDir, name, this.clock(), change));
  }

  /** Runs a writer of the status file (and history); a failure to write is logged, not fatal. */
  write<T extends HostRecords | { records: HostRecords }>(writer: () => T): T | undefined {
    try {
      const written = writer();
      this.records = 'records' in written ? (written.records as HostRecords) : written;
      this.stamp = hostRecordsStamp(this.stateDir);
      return written;
    } catch (err) {
      this.log(`cannot write the status or history file: ${asPullbackError(err).toLine()}`);
      return undefined;
    }
  }
}
