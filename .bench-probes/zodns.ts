import * as z from 'zod';
export const s = z.object({ a: z.string() });
export const handler = async () => 1;
