import { callerAwsSettings } from '../../../local/stack';

/**
 * Local mode with Bedrock calls AWS with the caller's credentials; the emulators' stand-in keys
 * must not sign that call, and a caller without credentials hears it at start.
 */
describe('callerAwsSettings', () => {
  it('leaves the emulators their own settings for the rules and openai-compatible providers', () => {
    const env = { AWS_PROFILE: 'dev', AWS_REGION: 'eu-west-1' };
    expect(callerAwsSettings('rules', env)).toEqual({});
    expect(callerAwsSettings('openai-compatible', env)).toEqual({});
  });

  it('with Bedrock, keeps the caller\'s keys and region over the stand-in ones', () => {
    const env = { AWS_ACCESS_KEY_ID: 'AKIDCALLER', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'session', AWS_REGION: 'eu-west-1', HOME: '/home/me' };
    expect(callerAwsSettings('bedrock', env)).toEqual({
      AWS_ACCESS_KEY_ID: 'AKIDCALLER',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'session',
      AWS_REGION: 'eu-west-1',
    });
  });

  it('with Bedrock and a profile, blanks the stand-in keys so that the SDK reads the profile', () => {
    expect(callerAwsSettings('bedrock', { AWS_PROFILE: 'dev' })).toEqual({ AWS_PROFILE: 'dev', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' });
  });

  it('with Bedrock and no credentials of the caller, refuses to start, naming what to set', () => {
    expect(() => callerAwsSettings('bedrock', { AWS_REGION: 'us-east-1' })).toThrow(/^WARDEN_MODEL_PROVIDER=bedrock .*AWS_PROFILE.*AWS_ACCESS_KEY_ID/);
    expect(() => callerAwsSettings('bedrock', { AWS_ACCESS_KEY_ID: 'AKIDONLY' })).toThrow(/AWS_SECRET_ACCESS_KEY/);
  });
});
