/**
 * Imported before `serve.ts` by the faulty test plugin: keeps the Worker's
 * original `close`, so a test can exit without the announcement serve.ts adds
 * and prove the host's heartbeat still notices.
 * @module
 */
const scope = globalThis as unknown as { close(): void; __realClose?: () => void };
scope.__realClose = scope.close.bind(scope);
