import {
  isRetryableConflict,
  isSchemaMissing,
  isStatementTimeout,
  isTransientDbError,
} from './db-errors';

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

describe('database error classes', () => {
  it.each([
    [pgError('08006'), true], // connection failure
    [pgError('57P01'), true], // admin shutdown
    [pgError('53300'), true], // too many connections
    [pgError('40P01'), true], // deadlock
    [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      true,
    ],
    [new Error('Connection terminated unexpectedly'), true],
    [pgError('42601'), false], // syntax error: a bug, not an outage
    [pgError('23502'), false], // not-null violation
    [new Error('something else'), false],
  ])('%s → transient %s', (e, expected) => {
    expect(isTransientDbError(e)).toBe(expected);
  });

  it('retries the transaction on deadlocks, serialisation failures and unique races only', () => {
    expect(isRetryableConflict(pgError('40P01'))).toBe(true);
    expect(isRetryableConflict(pgError('23505'))).toBe(true);
    expect(isRetryableConflict(pgError('08006'))).toBe(false);
  });

  it('recognises a statement cancelled by statement_timeout (a 503, not a 500)', () => {
    expect(isStatementTimeout(pgError('57014'))).toBe(true);
    expect(isStatementTimeout({ driverError: { code: '57014' } })).toBe(true);
    expect(isStatementTimeout(pgError('57P01'))).toBe(false);
    expect(isTransientDbError(pgError('57014'))).toBe(true);
  });

  it('recognises a schema not migrated yet (a wait, not a poison record)', () => {
    expect(isSchemaMissing(pgError('42P01'))).toBe(true);
    expect(isSchemaMissing({ driverError: { code: '3F000' } })).toBe(true);
    expect(isSchemaMissing(pgError('42601'))).toBe(false);
    expect(isTransientDbError(pgError('42P01'))).toBe(false);
  });
});
