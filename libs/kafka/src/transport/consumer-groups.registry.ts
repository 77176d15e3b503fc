import { Injectable } from '@nestjs/common';
import type { ConsumerRunner } from '../consumer.runner';
import type { ConsumerGroup } from './consumer-group';

/** When a group's members count for readiness (see `KafkaGroupOptions.readiness`). */
export type GroupReadiness = 'boot' | 'running';

interface Member {
  group: ConsumerGroup;
  readiness: GroupReadiness;
  running: boolean;
}

/** The consumer group members this process runs, for readiness and for handlers that ask. */
@Injectable()
export class KafkaConsumerGroups {
  private readonly members = new Map<ConsumerRunner, Member>();

  add(group: ConsumerGroup, readiness: GroupReadiness, runner: ConsumerRunner): void {
    this.members.set(runner, { group, readiness, running: false });
  }

  started(runner: ConsumerRunner): void {
    const m = this.members.get(runner);
    if (m) m.running = true;
  }

  remove(runner: ConsumerRunner): void {
    this.members.delete(runner);
  }

  /** Members that readiness counts, with their group's name and whether they run yet. */
  counted(): Array<{ group: string; runner: ConsumerRunner; running: boolean }> {
    return [...this.members]
      .filter(([, m]) => m.readiness === 'boot' || m.running)
      .map(([runner, m]) => ({ group: m.group.name, runner, running: m.running }));
  }

  /** The members of a group in this process (e.g. for a test to wait until one runs). */
  runners(group: ConsumerGroup): ConsumerRunner[] {
    return [...this.members].filter(([, m]) => m.group === group).map(([r]) => r);
  }

  /** True when the group runs here and every member has read its state back (assigned partitions). */
  isRestored(group: ConsumerGroup): boolean {
    const own = [...this.members].filter(([, m]) => m.group === group);
    return own.length > 0 && own.every(([r, m]) => m.running && r.isRestored());
  }
}
