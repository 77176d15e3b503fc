/** The partition a key lands on: the same murmur2 computation every producer of the platform uses. */
export { partitionOfKey as partitionOf } from '@app/kafka';
