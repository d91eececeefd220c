/**
 * Test process defaults: the handlers' Powertools logs are silent unless WARDEN_TEST_LOGS=1
 * (tests assert on responses and stored items, not on log lines), no EMF metrics on stdout, and
 * no SDK notice about the Node version on every worker.
 */
process.env.POWERTOOLS_LOG_LEVEL ??= process.env.WARDEN_TEST_LOGS === '1' ? 'INFO' : 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
