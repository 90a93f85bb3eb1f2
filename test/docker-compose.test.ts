/**
 * No Docker engine runs on our machines, so the compose file is checked by reading it: the services
 * exist, ports and environment agree with each other and with changewatch's own configuration.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../server/config.ts';

const root = path.resolve(import.meta.dirname, '..');
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, { image?: string; build?: string; ports?: string[]; environment?: Record<string, string>; volumes?: string[]; profiles?: string[]; command?: string[] }>;
};

describe('docker-compose.yml', () => {
  const { kafka, changewatch, simulator } = compose.services;

  it('runs Apache Kafka in KRaft mode with an internal listener changewatch can reach', () => {
    expect(kafka!.image).toMatch(/^apache\/kafka:/);
    expect(kafka!.environment!.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    const advertised = kafka!.environment!.KAFKA_ADVERTISED_LISTENERS!.split(',');
    expect(advertised).toContain(`INTERNAL://${changewatch!.environment!.KAFKA_BROKERS}`);
    expect(simulator!.environment!.KAFKA_BROKERS).toBe(changewatch!.environment!.KAFKA_BROKERS);
  });

  it('publishes the port changewatch listens on', () => {
    const port = changewatch!.environment!.PORT;
    expect(changewatch!.ports).toContain(`${port}:${port}`);
  });

  it("gives changewatch an environment and config file its own loader accepts", () => {
    const mount = changewatch!.volumes!.find((v) => v.endsWith(changewatch!.environment!.CHANGEWATCH_CONFIG!) || v.includes(`:${changewatch!.environment!.CHANGEWATCH_CONFIG}:`))!;
    const hostFile = path.resolve(root, mount.split(':')[0]!);
    expect(existsSync(hostFile)).toBe(true);
    const config = loadConfig({ file: hostFile, env: { ...changewatch!.environment, CHANGEWATCH_CONFIG: hostFile } });
    expect(config.kafka.brokers).toEqual(['kafka:29092']);
    expect(config.port).toBe(8080);
  });

  it('builds changewatch and the simulator from this repository, the simulator behind a profile', () => {
    expect(changewatch!.build).toBe('.');
    expect(simulator!.profiles).toEqual(['simulator']);
    expect(existsSync(path.join(root, simulator!.command!.at(-1)!))).toBe(true);
    expect(existsSync(path.join(root, 'Dockerfile'))).toBe(true);
  });
});
