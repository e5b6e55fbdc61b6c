import type { StageMarks } from './tools/types.js';

/** Takes the StageMarks of one backup: call the marks as the steps happen, then end(). */
export class StageClock {
  private readonly start = process.hrtime.bigint();
  private readonly marks: Omit<StageMarks, 'end'> = {};

  private now(): number {
    return Number(process.hrtime.bigint() - this.start) / 1e9;
  }

  accepted(): void {
    this.marks.accepted ??= this.now();
  }

  progress(): void {
    const t = this.now();
    this.marks.firstProgress ??= t;
    this.marks.lastProgress = t;
  }

  end(): StageMarks {
    return { ...this.marks, end: this.now() };
  }
}
