/**
 * Test process defaults: the handlers' Powertools logs are silent unless WARDEN_TEST_LOGS=1
 * (tests assert on responses and stored items, not on log lines), and no EMF metrics on stdout.
 */
process.env.POWERTOOLS_LOG_LEVEL ??= process.env.WARDEN_TEST_LOGS === '1' ? 'INFO' : 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
