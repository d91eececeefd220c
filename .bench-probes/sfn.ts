import { SFNClient } from '@aws-sdk/client-sfn';
export const d = new SFNClient({});
export const handler = async () => 1;
