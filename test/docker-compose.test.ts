/**
 * No Docker engine runs on our machines, so the compose file is checked by reading it: the services
 * exist, ports, volumes, health checks and environment agree with each other, with the Dockerfile
 * and with changewatch's own configuration, and `--scale changewatch=N` has nothing to collide on.
 * (test/dockerfile.test.ts builds the image's stages themselves.)
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../server/config.ts';

const root = path.resolve(import.meta.dirname, '..');

interface Service {
  image?: string;
  build?: string;
  container_name?: string;
  ports?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  profiles?: string[];
  command?: string[];
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test: string[]; interval?: string; timeout?: string; retries?: number; start_period?: string };
}
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');

/** Environment values as strings, as a container gets them. */
function env(service: Service): Record<string, string> {
  return Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)]));
}

/** A published port: host range (inclusive) → container port. */
function publishedPorts(service: Service): Array<{ from: number; to: number; container: number }> {
  return (service.ports ?? []).map((spec) => {
    const match = /^(?:[\d.]+:)?(\d+)(?:-(\d+))?:(\d+)(?:\/tcp)?$/.exec(spec);
    if (!match) throw new Error(`unexpected port spec ${spec}`);
    return { from: Number(match[1]), to: Number(match[2] ?? match[1]), container: Number(match[3]) };
  });
}

/** `source:target[:mode]` volume entries, named volumes (no `.` or `/` at the start) told apart from bind mounts. */
function mounts(service: Service): Array<{ source: string; target: string; named: boolean; readOnly: boolean }> {
  return (service.volumes ?? []).map((spec) => {
    const [source, target, mode] = spec.split(':');
    return { source: source!, target: target!, named: !/^[./~]/.test(source!), readOnly: mode === 'ro' };
  });
}

function seconds(duration: string | undefined): number {
  const match = /^(\d+)(ms|s|m)$/.exec(duration ?? '');
  if (!match) return 0;
  return Number(match[1]) * { ms: 0.001, s: 1, m: 60 }[match[2] as 'ms' | 's' | 'm'];
}

describe('docker-compose.yml', () => {
  const { kafka, postgres, changewatch, simulator } = compose.services;

  it('runs Apache Kafka in KRaft mode with an internal listener changewatch can reach', () => {
    expect(kafka!.image).toMatch(/^apache\/kafka:/);
    expect(env(kafka!).KAFKA_PROCESS_ROLES).toBe('broker,controller');
    const advertised = env(kafka!).KAFKA_ADVERTISED_LISTENERS!.split(',');
    expect(advertised).toContain(`INTERNAL://${env(changewatch!).KAFKA_BROKERS}`);
    expect(env(simulator!).KAFKA_BROKERS).toBe(env(changewatch!).KAFKA_BROKERS);
  });

  it("keeps Kafka's and PostgreSQL's data in named volumes", () => {
    const declared = Object.keys(compose.volumes ?? {});
    const kafkaData = mounts(kafka!).find((m) => m.target === env(kafka!).KAFKA_LOG_DIRS);
    expect(kafkaData, 'a volume on KAFKA_LOG_DIRS').toMatchObject({ named: true });
    // A fixed cluster id: the log directory a volume keeps is formatted for it.
    expect(env(kafka!).CLUSTER_ID).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(postgres!.image).toMatch(/^postgres:1[67](?:[.-]|$)/);
    // postgres:16 and 17 keep their cluster in /var/lib/postgresql/data (18 moved it up a level).
    expect(mounts(postgres!).find((m) => m.target === '/var/lib/postgresql/data')).toMatchObject({ named: true });
    expect(declared).toEqual(expect.arrayContaining([kafkaData!.source, mounts(postgres!)[0]!.source]));
    for (const service of Object.values(compose.services)) for (const m of mounts(service)) if (m.named) expect(declared).toContain(m.source);
  });

  it('health-checks Kafka, PostgreSQL and changewatch, with a start period, and starts each after what it needs is healthy', () => {
    for (const [name, service] of Object.entries({ kafka, postgres, changewatch })) {
      expect(service!.healthcheck, name).toBeDefined();
      expect(seconds(service!.healthcheck!.start_period), `${name} start_period`).toBeGreaterThan(0);
    }
    expect(postgres!.healthcheck!.test).toEqual(['CMD', 'pg_isready', '-U', env(postgres!).POSTGRES_USER, '-d', env(postgres!).POSTGRES_DB]);
    expect(changewatch!.healthcheck!.test.join(' ')).toContain(`127.0.0.1:${env(changewatch!).PORT}/readyz`);
    expect(changewatch!.depends_on).toEqual({ kafka: { condition: 'service_healthy' }, postgres: { condition: 'service_healthy' } });
    expect(simulator!.depends_on).toEqual({ changewatch: { condition: 'service_healthy' } });
  });

  it("points changewatch's DATABASE_URL at the compose PostgreSQL", () => {
    const url = new URL(env(changewatch!).DATABASE_URL!);
    const pg = env(postgres!);
    expect(url.protocol).toMatch(/^postgres(?:ql)?:$/);
    expect(url.hostname).toBe('postgres');
    expect(Object.keys(compose.services)).toContain(url.hostname);
    expect(Number(url.port || 5432)).toBe(Number(pg.PGPORT ?? 5432));
    expect(decodeURIComponent(url.username)).toBe(pg.POSTGRES_USER);
    expect(decodeURIComponent(url.password)).toBe(pg.POSTGRES_PASSWORD);
    expect(url.pathname.slice(1)).toBe(pg.POSTGRES_DB ?? pg.POSTGRES_USER);
  });

  it("gives changewatch an environment and config file its own loader accepts", () => {
    const cw = env(changewatch!);
    const mount = mounts(changewatch!).find((m) => m.target === cw.CHANGEWATCH_CONFIG)!;
    expect(mount).toMatchObject({ named: false, readOnly: true });
    const hostFile = path.resolve(root, mount.source);
    expect(existsSync(hostFile)).toBe(true);
    const config = loadConfig({ file: hostFile, env: { ...cw, CHANGEWATCH_CONFIG: hostFile } });
    expect(config.kafka.brokers).toEqual(['kafka:29092']);
    expect(config.port).toBe(8080);
    expect(config.databaseUrl).toBe(cw.DATABASE_URL);
  });

  it('scales with --scale changewatch=3: no container name, no colliding host port, one consumer group, no shared data dir', () => {
    for (const [name, service] of Object.entries(compose.services)) expect(service.container_name, name).toBeUndefined();
    // Every instance listens on PORT inside its container; the host side is a range with a port each.
    const [published, ...others] = publishedPorts(changewatch!);
    expect(others).toEqual([]);
    expect(published!.container).toBe(Number(env(changewatch!).PORT));
    expect(published!.to - published!.from + 1).toBeGreaterThanOrEqual(3);
    // No two services publish the same host port.
    const taken = Object.values(compose.services).flatMap((s) => publishedPorts(s).flatMap((p) => Array.from({ length: p.to - p.from + 1 }, (_, i) => p.from + i)));
    expect(new Set(taken).size).toBe(taken.length);
    // The same group id on every instance, not derived from the container.
    const config = loadConfig({ file: path.resolve(root, 'changewatch.example.yaml'), env: env(changewatch!) });
    expect(config.kafka.groupId).toBe(env(changewatch!).KAFKA_GROUP_ID);
    expect(JSON.stringify(changewatch!.environment)).not.toMatch(/HOSTNAME|\{\{/);
    // As many telemetry partitions as instances the port range allows, at least.
    expect(Number(env(kafka!).KAFKA_NUM_PARTITIONS)).toBeGreaterThanOrEqual(published!.to - published!.from + 1);
    // With DATABASE_URL nothing is written to the data dir; the image's VOLUME gives each container
    // an anonymous one. A named volume there would be one directory for every instance, and the
    // lock in it does not hold across containers (server/store/data-dir-lock.ts: another host's
    // lock reads as stale).
    const dataDir = /^ENV .*CHANGEWATCH_DATA_DIR=(\S+)/m.exec(dockerfile)?.[1];
    expect(dataDir).toBe('/data');
    expect(dockerfile).toMatch(new RegExp(`^VOLUME \\["${dataDir}"\\]`, 'm'));
    expect(env(changewatch!).DATABASE_URL).toBeDefined();
    expect(mounts(changewatch!).filter((m) => m.named || m.target === dataDir || m.target.startsWith(`${dataDir}/`))).toEqual([]);
  });

  it('builds changewatch and the simulator from this repository, the simulator behind a profile', () => {
    expect(changewatch!.build).toBe('.');
    expect(simulator!.build).toBe('.');
    expect(simulator!.profiles).toEqual(['simulator']);
    // The simulator runs from the image: its entry point is one of the folders the Dockerfile copies.
    const entry = simulator!.command!.at(-1)!;
    expect(existsSync(path.join(root, entry))).toBe(true);
    expect(dockerfile).toMatch(new RegExp(`^COPY ${entry.split('/')[0]} `, 'm'));
    expect(existsSync(path.join(root, 'Dockerfile'))).toBe(true);
  });
});
