import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
export const l = new Logger(); export const m = new Metrics({namespace:'x'}); export const t = new Tracer();
export const handler = async () => 1;
