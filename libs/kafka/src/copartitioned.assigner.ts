import { AssignerProtocol, type Assigner, type PartitionAssigner } from 'kafkajs';

export const COPARTITIONED_ASSIGNER = 'CopartitionedAssigner';

/**
 * Gives partition N of every subscribed topic to the same member: the topics are keyed alike
 * (`appId:userId`) with the same partition count, so one member holds all of one user's state.
 * Partition N goes to member N mod M (members sorted by id), which keeps assignments stable
 * while the membership does not change.
 */
export const CopartitionedAssigner: PartitionAssigner = ({ cluster }): Assigner => ({
  name: COPARTITIONED_ASSIGNER,
  version: 1,
  async assign({ members, topics }) {
    const sorted = [...members].map((m) => m.memberId).sort();
    const assignment = new Map<string, Record<string, number[]>>(sorted.map((id) => [id, {}]));
    for (const topic of topics) {
      const partitions = cluster
        .findTopicPartitionMetadata(topic)
        .map((p) => p.partitionId)
        .sort((a, b) => a - b);
      for (const partition of partitions) {
        const member = assignment.get(sorted[partition % sorted.length])!;
        (member[topic] ??= []).push(partition);
      }
    }
    return sorted.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 1,
        assignment: assignment.get(memberId)!,
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: COPARTITIONED_ASSIGNER,
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: 1,
        topics,
        userData: Buffer.alloc(0),
      }),
    };
  },
});
