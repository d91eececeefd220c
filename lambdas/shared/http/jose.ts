/**
 * What bearer.ts uses of jose, required by it on first use. Named here rather than required as
 * the package: a `require('jose')` would bundle jose's whole CommonJS build, where these imports
 * let esbuild keep only what they reach.
 */
export { createRemoteJWKSet, errors, jwtVerify } from 'jose';
