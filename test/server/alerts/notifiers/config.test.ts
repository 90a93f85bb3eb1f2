import { describe, expect, it } from 'vitest';
import { notifyConfigSchema } from '../../../../server/alerts/notifiers/config.ts';
import { createNotifiers } from '../../../../server/alerts/notifiers/index.ts';
import { matchesRoute, selectEndpoints } from '../../../../server/alerts/notifiers/match.ts';
import { makeAlert, makeIncident } from '../../store/fixtures.ts';

describe('notify: config', () => {
  const yamlShaped = [
    { name: 'oncall', type: 'pagerduty', url: 'https://events.pagerduty.com/v2/enqueue', routingKey: 'abc123', match: { severity: ['critical', 'warning'] } },
    { name: 'audit-hook', type: 'webhook', url: 'https://hooks.example.com/changewatch', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
    { name: 'ai-changes', type: 'slack', url: 'https://hooks.slack.com/services/T/B/X', match: { authorType: 'ai_agent', service: 'checkout' }, timeoutMs: 3000 },
  ];

  it('parses the documented keys, applies defaults and normalises single values to lists', () => {
    const configs = notifyConfigSchema.parse(yamlShaped);
    expect(configs[0]).toMatchObject({ name: 'oncall', type: 'pagerduty', timeoutMs: 10_000, match: { severity: ['critical', 'warning'] } });
    expect(configs[2]).toMatchObject({ timeoutMs: 3000, match: { authorType: ['ai_agent'], service: ['checkout'] } });
    expect([...createNotifiers(configs).values()].map((n) => `${n.name}:${n.type}`)).toEqual(['oncall:pagerduty', 'audit-hook:webhook', 'ai-changes:slack']);
  });

  it('rejects duplicate names, unknown types and keys, missing routing keys and bad URLs', () => {
    const fails = (value: unknown) => !notifyConfigSchema.safeParse(value).success;
    expect(fails([yamlShaped[0], { ...yamlShaped[1], name: 'oncall' }])).toBe(true);
    expect(fails([{ name: 'x', type: 'email', url: 'https://x' }])).toBe(true);
    expect(fails([{ ...yamlShaped[0], routingkey: 'typo' }])).toBe(true);
    expect(fails([{ name: 'pd', type: 'pagerduty' }])).toBe(true);
    expect(fails([{ name: 'h', type: 'webhook', url: 'ftp://x/y', secret: yamlShaped[1]!.secret }])).toBe(true);
    expect(fails([{ ...yamlShaped[0], match: { severity: ['sev1'] } }])).toBe(true);
  });

  it('refuses notify URLs whose scheme is not http(s), saying so without echoing the URL', () => {
    for (const url of ['file:///etc/passwd', 'ftp://x/y', 'data:text/plain,hi', 'javascript:alert(1)']) {
      const result = notifyConfigSchema.safeParse([{ name: 'h', type: 'slack', url }]);
      expect(result.success).toBe(false);
      expect(result.error!.issues.map((issue) => issue.message)).toEqual([`must be an http:// or https:// URL, not "${new URL(url).protocol}" (changewatch only sends HTTP requests)`]);
    }
    expect(notifyConfigSchema.safeParse([{ name: 'h', type: 'slack', url: 'http://10.0.0.7/hook' }]).success).toBe(true);
  });

  it('routes on service, environment, severity and the top suspect author type', () => {
    const configs = notifyConfigSchema.parse(yamlShaped);
    const incident = makeIncident();
    expect(selectEndpoints(configs, incident, [makeAlert()])).toEqual(['oncall', 'audit-hook', 'ai-changes']);
    expect(selectEndpoints(configs, { ...incident, severity: 'info' }, [makeAlert()])).toEqual(['audit-hook', 'ai-changes']);
    expect(selectEndpoints(configs, { ...incident, service: 'search' }, [makeAlert()])).toEqual(['oncall', 'audit-hook']);
    // No suspect: an authorType route does not match.
    expect(selectEndpoints(configs, incident, [makeAlert({ suspects: [] })])).toEqual(['oncall', 'audit-hook']);
    const human = makeAlert();
    human.suspects = [{ ...human.suspects[0]!, change: { ...human.suspects[0]!.change, author: { type: 'human', name: 'dana' } } }];
    expect(matchesRoute({ authorType: ['ai_agent', 'ai_assisted'] }, incident, [human])).toBe(false);
    expect(matchesRoute({ environment: ['staging'] }, incident, [human])).toBe(false);
    expect(matchesRoute(undefined, incident, [])).toBe(true);
  });
});
