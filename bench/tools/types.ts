/** The three phases of one run, in order. */
export const PHASES = ['full', 'no-change', 'one-percent'] as const;
export type Phase = (typeof PHASES)[number];

export const PHASE_LABELS: Record<Phase, string> = {
  full: 'full',
  'no-change': 'no-change incremental',
  'one-percent': '1 %-change incremental',
};

/**
 * Seconds from the start of one backup until each step was reached, as the caller sees them:
 * the backup host accepted the request (Pullback only), rsync's first progress line (its file
 * list is complete: --no-inc-recursive), its last one, the end (promoted and answered).
 */
export interface StageMarks {
  accepted?: number;
  firstProgress?: number;
  lastProgress?: number;
  end: number;
  /** Pullback: the kind of pass the backup host made (full, or incremental from the change index) */
  pass?: string;
}

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
  /** Where the last backup's time went (tools that report progress), else undefined. */
  lastStages?(): StageMarks | undefined;
  /** The content of `relativePath` (below the source tree) as the newest backup holds it. */
  readLatest(relativePath: string): Promise<Buffer>;
  /** Bytes the last backup added to the repository. */
  measureAdded(): Promise<number>;
  teardown(): Promise<void>;
}
