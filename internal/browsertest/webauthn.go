package browsertest

import (
	"context"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// AuthenticatorOption changes the options of a virtual authenticator.
type AuthenticatorOption func(*webauthn.VirtualAuthenticatorOptions)

// AddVirtualAuthenticator gives the tab a CDP virtual authenticator
// (WebAuthn.addVirtualAuthenticator): by default a platform authenticator
// ("internal" transport, CTAP2) that keeps discoverable credentials
// (passkeys), verifies the user and confirms presence by itself, so
// navigator.credentials.create and .get in the tab's pages succeed without
// a prompt. opts change these options. It returns the authenticator's ID.
//
// WebAuthn needs a secure context: an https page, or http://localhost
// (not http://127.0.0.1: an IP address is no valid relying party ID).
func (tab *Tab) AddVirtualAuthenticator(opts ...AuthenticatorOption) webauthn.AuthenticatorID {
	tab.t.Helper()
	o := &webauthn.VirtualAuthenticatorOptions{
		Protocol:                    webauthn.AuthenticatorProtocolCtap2,
		Ctap2version:                webauthn.Ctap2versionCtap21,
		Transport:                   webauthn.AuthenticatorTransportInternal,
		HasResidentKey:              true,
		HasUserVerification:         true,
		IsUserVerified:              true,
		AutomaticPresenceSimulation: true,
	}
	for _, f := range opts {
		f(o)
	}
	return runCtx(tab, "add a virtual authenticator", func(ctx context.Context) (webauthn.AuthenticatorID, error) {
		if !tab.authn {
			// No UI: the browser's dialogs would wait for a click.
			noUI := false
			if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{EnableUI: &noUI}); err != nil {
				return "", err
			}
			tab.authn = true
		}
		res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: o})
		return res.AuthenticatorID, err
	})
}

// Credentials lists the credentials that the virtual authenticator id
// holds (WebAuthn.getCredentials), with their private keys, relying party
// IDs, user handles and signature counts.
func (tab *Tab) Credentials(id webauthn.AuthenticatorID) []*webauthn.Credential {
	tab.t.Helper()
	return runCtx(tab, "list the credentials", func(ctx context.Context) ([]*webauthn.Credential, error) {
		res, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
		return res.Credentials, err
	})
}

// RemoveVirtualAuthenticator removes the virtual authenticator id and its
// credentials, like a device that is gone.
func (tab *Tab) RemoveVirtualAuthenticator(id webauthn.AuthenticatorID) {
	tab.t.Helper()
	runCtx(tab, "remove the virtual authenticator", func(ctx context.Context) (struct{}, error) {
		_, err := chromedp.Call(ctx, webauthn.RemoveVirtualAuthenticator, webauthn.RemoveVirtualAuthenticatorParams{AuthenticatorID: id})
		return struct{}{}, err
	})
}
