import { Module } from '@nestjs/common';
import { OutcomeStore } from './outcome.store';
import { PartitionMaintenance } from './partition-maintenance.service';
import { Partitions } from './partitions';

/** The store (its consumer is declared in the app module) and the partitions' upkeep. */
@Module({
  providers: [Partitions, OutcomeStore, PartitionMaintenance],
  exports: [OutcomeStore, PartitionMaintenance, Partitions],
})
export class StoreModule {}
