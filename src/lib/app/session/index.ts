/**
 * The session: who is signed in on this device, their program and their partner's data
 * (session.svelte.ts says how it is made of its parts).
 */
export { Session, type SessionOptions } from './session.svelte';
export type { OpenPartner, ReadySession } from './open-partner.svelte';
export type { Claims, Identity, SignInRecord } from './identity';
