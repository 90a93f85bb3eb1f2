/**
 * The authorization sweep as a chaos scenario: a service with anonymous reads off, every mutating
 * route of its real app (enumerated from the router stack, bench/chaos/auth-sweep.ts) called with no
 * token, a wrong one, and viewer, ingest and operator tokens, each answer checked against the one
 * table of who may do what (MUTATION_ROLES in server/http/auth.ts).
 */
import { startTestService } from '../../test/support/service-harness.ts';
import { testAuthConfigFile, TEST_TOKENS } from '../../test/support/tokens.ts';
import { authSweep, expressAppOf, mutatingRoutes } from './auth-sweep.ts';
import { Invariants, type Scenario } from './scenario.ts';

/** The authorization sweep scenario (its size does not scale: every route, every caller, once). */
export const authScenario: Scenario = {
  name: 'auth',
  async run({ brokers }) {
    const service = await startTestService(brokers, { env: { CHANGEWATCH_CONFIG: testAuthConfigFile({ anonymousRead: false }) } });
    try {
      const routes = mutatingRoutes(await expressAppOf(service.http, service.url));
      const { checked, mismatches } = await authSweep(service.url, routes, TEST_TOKENS);
      const invariants = new Invariants();
      invariants.check(routes.length > 0, 'no mutating route was found');
      for (const mismatch of mismatches) invariants.check(false, mismatch);
      return { figures: { routes: routes.length, checked, mismatches: mismatches.length }, failures: invariants.failures };
    } finally {
      await service.stop();
    }
  },
};
