import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
/** Read from package.json at runtime, so there is one place to bump it. */
export const VERSION: string = (require('../../package.json') as { version: string }).version;
