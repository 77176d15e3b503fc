/** Database outages and timeouts answer 503 problems (`@app/database`, shared). */
export { DatabaseUnavailableInterceptor } from '@app/database';
