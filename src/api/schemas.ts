// Every TypeBox schema of the API, each defined next to its routes (routes/<resource>/schema.ts). The
// console derives its types from here with `import type`, so this file re-exports and defines nothing.
export * from './routes/schema.js';
export * from './routes/access-rules/schema.js';
export * from './routes/approvals/schema.js';
export * from './routes/audit/schema.js';
export * from './routes/connect/schema.js';
export * from './routes/device-groups/schema.js';
export * from './routes/devices/schema.js';
export * from './routes/directory/schema.js';
export * from './routes/explain/schema.js';
export * from './routes/http-proxy-login/schema.js';
export * from './routes/login/schema.js';
export * from './routes/mail-settings/schema.js';
export * from './routes/params/schema.js';
export * from './routes/rdp/schema.js';
export * from './routes/reports/schema.js';
export * from './routes/second-factor/schema.js';
export * from './routes/passkeys/schema.js';
export * from './routes/sessions/schema.js';
export * from './routes/statements/schema.js';
export * from './routes/ssh-sso/schema.js';
export * from './routes/tokens/schema.js';
export * from './routes/user-groups/schema.js';
export * from './routes/users/schema.js';
export * from './routes/webhooks/schema.js';
export * from './routes/workflows/schema.js';
