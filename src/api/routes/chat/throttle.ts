// Refusals of unauthenticated callbacks are audited, but a flood of forged requests must not flood the
// audit log: at most `perMinute` records a minute per process; the rest go to the log only.
export class RefusalThrottle {
  private windowStart = 0;
  private used = 0;
  constructor(private readonly perMinute = 60) {}

  take(now = Date.now()): boolean {
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.used = 0;
    }
    return ++this.used <= this.perMinute;
  }
}
