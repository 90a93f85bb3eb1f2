/**
 * A local stand-in for an Alertmanager webhook receiver: decodes each body with a schema that
 * mirrors Alertmanager's `webhook.Message` (`template.Data` plus version, groupKey and
 * truncatedAlerts, Go's JSON of `template.Alert` with RFC 3339 times and 16-hex fingerprints), as
 * receivers written against Alertmanager decode it, and answers 400 to anything else.
 */
import { z } from 'zod';
import type { AlertmanagerMessage } from '../../../../server/alerts/notifiers/alertmanager.ts';
import { startReceiver, type Receiver } from './receiver.ts';

/** Go's `time.Time` in JSON: RFC 3339 with optional fraction. */
const rfc3339 = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/, 'not an RFC 3339 time');
/** Prometheus label names; values are any UTF-8. */
const labelSet = z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'not a Prometheus label name'), z.string());
/** Annotation names follow the same rule. */
const kv = labelSet;

/** `template.Alert`. */
export const alertmanagerAlertSchema = z.strictObject({
  status: z.enum(['firing', 'resolved']),
  labels: labelSet,
  annotations: kv,
  startsAt: rfc3339,
  endsAt: rfc3339,
  generatorURL: z.string(),
  fingerprint: z.string().regex(/^[0-9a-f]{16}$/, 'not a 16-hex fingerprint'),
});

/** `webhook.Message`, version 4. */
export const alertmanagerMessageSchema = z
  .strictObject({
    version: z.literal('4'),
    groupKey: z.string(),
    truncatedAlerts: z.number().int().min(0),
    status: z.enum(['firing', 'resolved']),
    receiver: z.string(),
    groupLabels: kv,
    commonLabels: labelSet,
    commonAnnotations: kv,
    externalURL: z.string(),
    alerts: z.array(alertmanagerAlertSchema),
  })
  .superRefine((message, ctx) => {
    // Alertmanager's group status: resolved only when every alert is.
    const anyFiring = message.alerts.some((alert) => alert.status === 'firing');
    if ((message.status === 'firing') !== anyFiring) ctx.addIssue({ code: 'custom', message: `status ${message.status} disagrees with the alerts` });
    for (const [index, alert] of message.alerts.entries()) {
      if (alert.status === 'firing' && alert.endsAt !== '0001-01-01T00:00:00Z') ctx.addIssue({ code: 'custom', path: ['alerts', index, 'endsAt'], message: 'a firing alert ends at the zero time' });
      if (alert.status === 'resolved' && Date.parse(alert.endsAt) < Date.parse(alert.startsAt)) ctx.addIssue({ code: 'custom', path: ['alerts', index, 'endsAt'], message: 'ends before it starts' });
    }
  });

/** A receiver keeping every message it could decode; anything else gets a 400 and is kept in `refused`. */
export interface AlertmanagerReceiver extends Receiver {
  messages: AlertmanagerMessage[];
  refused: string[];
}

/** Starts it on a free port; `authorization`, when given, must match the request's header (else 401). */
export async function startAlertmanagerReceiver(authorization?: string): Promise<AlertmanagerReceiver> {
  const messages: AlertmanagerMessage[] = [];
  const refused: string[] = [];
  const receiver = await startReceiver((request, response) => {
    if (authorization !== undefined && request.headers.authorization !== authorization) return void response.writeHead(401).end('unauthorized');
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch {
      refused.push('not JSON');
      return void response.writeHead(400).end('not JSON');
    }
    const parsed = alertmanagerMessageSchema.safeParse(body);
    if (!parsed.success) {
      refused.push(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
      return void response.writeHead(400).end('bad message');
    }
    messages.push(parsed.data as AlertmanagerMessage);
    response.writeHead(200).end();
  });
  return Object.assign(receiver, { messages, refused });
}
