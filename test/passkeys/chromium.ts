// Chromium for the passkey tests: the console is reached as localhost (WebAuthn needs a domain as the
// relying party), and a page gets a CDP virtual authenticator, optionally holding a known key.
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM } from '../web/browser.js';
import type { SoftAuthenticator } from './soft-authenticator.js';

export async function launchForPasskeys(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-sync', '--host-resolver-rules=MAP localhost 127.0.0.1'],
  });
}

/** A virtual authenticator on `page` (user verified, no prompt); with `key`, it holds that credential. */
export async function virtualAuthenticator(ctx: BrowserContext, page: Page, key?: SoftAuthenticator, rpId = 'localhost'): Promise<void> {
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  if (key)
    await cdp.send('WebAuthn.addCredential', {
      authenticatorId,
      credential: {
        credentialId: key.credentialId.toString('base64'),
        isResidentCredential: false,
        rpId,
        privateKey: key.pkcs8(),
        signCount: key.counter,
      },
    });
}
