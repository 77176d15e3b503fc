/** A setting is missing or invalid: the service must not start. The message names each setting. */
export class ConfigException extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigException';
  }
}
