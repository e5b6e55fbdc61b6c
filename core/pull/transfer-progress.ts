// Types only, and no Node import: the renderer's build type-checks what it sees of these.

/**
 * A transfer's progress as a person sees it, the same for a backup (serve's `progress`
 * message, then the agent's status) and a restore (the CLI's bar, the Restore window).
 */
export interface TransferProgress {
  bytes: number;
  /** 0..100 */
  percent: number;
  bytesPerSecond: number;
  etaSeconds: number | null;
  /** files transferred so far */
  files: number;
  /** only once the file list is complete */
  filesTotal?: number;
}
