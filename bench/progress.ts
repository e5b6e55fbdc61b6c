/**
 * Progress while the bench runs, on stderr (stdout carries the table). On a terminal one line
 * is redrawn with the elapsed time and the tool's own progress; otherwise one line per step.
 */
export class ProgressLine {
  private timer: NodeJS.Timeout | undefined;
  private label = '';
  private detail = '';
  private started = 0;
  private readonly tty = process.stderr.isTTY === true;

  start(label: string): void {
    this.stop();
    this.label = label;
    this.detail = '';
    this.started = Date.now();
    if (!this.tty) {
      process.stderr.write(`bench: ${label} …\n`);
      return;
    }
    this.draw();
    this.timer = setInterval(() => this.draw(), 250);
  }

  update(detail: string): void {
    this.detail = detail;
  }

  done(result: string): void {
    this.stop();
    if (this.tty) process.stderr.write('\r\x1b[K');
    process.stderr.write(`bench: ${this.label}: ${result}\n`);
  }

  note(line: string): void {
    this.stop();
    if (this.tty) process.stderr.write('\r\x1b[K');
    process.stderr.write(`bench: ${line}\n`);
  }

  private draw(): void {
    const seconds = ((Date.now() - this.started) / 1000).toFixed(0);
    const text = `bench: ${this.label} … ${seconds} s ${this.detail}`;
    process.stderr.write(`\r\x1b[K${text.slice(0, (process.stderr.columns || 100) - 1)}`);
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
