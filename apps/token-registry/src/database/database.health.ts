/** Readiness asks PostgreSQL (`@app/database`, shared with the other services that own one). */
export { DatabaseHealthIndicator } from '@app/database';
