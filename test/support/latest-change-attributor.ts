/**
 * A deliberately naive attributor for pipeline unit tests: the latest change on the alerted service
 * before "now" is the only suspect, with confidence 0.9. It keeps the pipeline's tests independent
 * of the real engine's model.
 */
import type { ChangeEvent, ServiceEntry } from '../../contract/events.ts';
import type { AnomalyContext, Attribution, Attributor } from '../../detectors/attribution/types.ts';

/** Naive attributor that also counts how often it was asked. */
export class LatestChangeAttributor implements Attributor {
  changes: ChangeEvent[] = [];
  calls = 0;

  observeChange(change: ChangeEvent): void {
    this.changes.push(change);
  }
  observeService(_service: ServiceEntry): void {}
  observePoint(): void {}

  attribute(anomaly: AnomalyContext): Attribution {
    this.calls++;
    const latest = this.changes.filter((c) => c.service === anomaly.service && c.timestamp <= anomaly.now).at(-1);
    if (!latest) return { suspects: [], noChangeConfidence: 1, summary: '' };
    const { type, service, author, summary, version, timestamp } = latest;
    return {
      suspects: [{ changeId: latest.id, confidence: 0.9, evidence: ['latest change on the service'], change: { type, service, author, summary, version, timestamp } }],
      noChangeConfidence: 0.1,
      summary: `most likely ${type} ${latest.id}`,
    };
  }

  recentChanges(limit: number): ChangeEvent[] {
    return this.changes.slice(-limit).reverse();
  }

  toJSON(): unknown {
    return { changes: this.changes };
  }

  // It keeps nothing per series.
  exportSeries(): unknown {
    return undefined;
  }
  importSeries(): void {}
  forgetSeries(): void {}

  static restore(json: unknown): LatestChangeAttributor {
    const a = new LatestChangeAttributor();
    a.changes = (json as { changes: ChangeEvent[] }).changes;
    return a;
  }
}
