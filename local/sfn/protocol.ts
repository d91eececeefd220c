/** The Step Functions API's content type (awsJson1_0), on every answer of the local engine, over HTTP or the handlers' port. */
export const SFN_CONTENT_TYPE = 'application/x-amz-json-1.0';
