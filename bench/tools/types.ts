/** The three phases of one run, in order. */
export const PHASES = ['full', 'no-change', 'one-percent'] as const;
export type Phase = (typeof PHASES)[number];

export const PHASE_LABELS: Record<Phase, string> = {
  full: 'full',
  'no-change': 'no-change incremental',
  'one-percent': '1 %-change incremental',
};

/** What the bench needs from each tool: one repository per run, three backups into it. */
export interface BenchTool {
  readonly id: string;
  readonly label: string;
  /** undefined when the tool is ready, otherwise why it is skipped on this machine */
  setup(): Promise<string | undefined>;
  /** A new, empty repository (and client state) for run `run`; the previous one is removed. */
  freshRepository(run: number): Promise<void>;
  /** One backup of the source tree into the current repository (the timed part). */
  backup(onProgress: (detail: string) => void): Promise<void>;
  /** Bytes the last backup added to the repository. */
  measureAdded(): Promise<number>;
  teardown(): Promise<void>;
}
