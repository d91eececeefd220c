import * as z from './zod';

/** The tiers a customer of Warden's example system of record can be on, lowest first. */
export const TIERS = ['basic', 'standard', 'premium'] as const;
export const CustomerTier = z.enum(TIERS);
export type CustomerTier = z.infer<typeof CustomerTier>;
