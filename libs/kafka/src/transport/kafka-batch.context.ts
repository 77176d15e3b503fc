import { BaseRpcContext } from '@nestjs/microservices';

/** What a handler gets besides its records (`@Ctx()` in Nest's terms): where the batch is from. */
export class KafkaBatchContext extends BaseRpcContext<[topic: string, partition: number]> {
  get topic(): string {
    return this.args[0];
  }

  get partition(): number {
    return this.args[1];
  }
}
