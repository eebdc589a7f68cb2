package manager

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"
	"strings"

	"github.com/acmectl/acmectl/storage"
)

// keyParams is a key's type ("rsa", "ecdsa"), RSA size and curve name
// (certbot's secp256r1, ...); empty for a key of another kind.
func keyParams(k crypto.Signer) (typ string, bits int, curve string) {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return "rsa", k.N.BitLen(), ""
	case *ecdsa.PrivateKey:
		switch k.Curve.Params().BitSize {
		case 256:
			curve = "secp256r1"
		case 384:
			curve = "secp384r1"
		case 521:
			curve = "secp521r1"
		}
		return "ecdsa", 0, curve
	}
	return "", 0, ""
}

// adoptLineageKey applies certbot's rule for a certonly that lands on an
// existing lineage (main._handle_unexpected_key_type_migration, certbot 2.1
// and 5.x): without --key-type the lineage keeps its key type. acmectl goes
// one step further and also keeps the RSA size and the curve unless
// --rsa-key-size / --elliptic-curve is given: certbot falls back to its
// 2048-bit default there, silently halving a 4096-bit lineage, which is an
// accident of its defaults rather than a choice an operator made.
//
// A --key-type that differs from the lineage's key is a change of key type:
// confirmed by --cert-name on the command line or, on a terminal, by the
// operator; otherwise it is refused with certbot's explanation. changing
// reports a confirmed change (the lineage is then renewed even if not due).
func (m *Manager) adoptLineageKey(c *Config, l *storage.Lineage) (changing bool, err error) {
	cur, bits, curve := keyParams(l.Key)
	if cur == "" {
		return false, nil
	}
	if !c.Set["key-type"] {
		c.KeyType = cur
	}
	if c.KeyType == cur {
		if cur == "rsa" && !c.Set["rsa-key-size"] {
			c.RSAKeySize = bits
		}
		if cur == "ecdsa" && !c.Set["elliptic-curve"] && curve != "" {
			c.Curve = curve
		}
		return false, nil
	}
	if c.Set["cert-name"] {
		return true, nil
	}
	from, to := strings.ToUpper(cur), strings.ToUpper(c.KeyType)
	ok, err := m.yesNo(YesNo{
		Question: fmt.Sprintf("An %s certificate named %s already exists. Do you want to update its key type to %s?", from, l.Name, to),
		Yes:      "Update key type", No: "Keep existing key type",
	})
	if err != nil || ok {
		return ok, err
	}
	return false, certbotErrorf("Are you trying to change the key type of the certificate named %s from %s to %s? "+
		"Please provide both --cert-name and --key-type on the command line to confirm the change you are trying to make.", l.Name, from, to)
}

// checkReuseKeyConflicts refuses a key change the lineage's reused key
// cannot make (certbot renewal._avoid_reuse_key_conflicts, 2.1 and 5.x):
// when the key is reused (--reuse-key, or reuse_key in the lineage's conf)
// and neither --no-reuse-key nor --new-key was given, the effective key
// type, RSA size and curve must be the key's own.
func checkReuseKeyConflicts(c *Config, l *storage.Lineage) error {
	if c.NoReuseKey || c.NewKey || l.Key == nil {
		return nil
	}
	saved := l.Conf != nil && l.Conf.Params.ReuseKey
	if !saved && !c.ReuseKey {
		return nil
	}
	typ, bits, curve := keyParams(l.Key)
	var flag string
	switch {
	case c.KeyType != typ:
		flag = "--key-type"
	case typ == "rsa" && c.RSAKeySize != bits:
		flag = "--rsa-key-size"
	case typ == "ecdsa" && curve != "" && c.Curve != curve:
		flag = "--elliptic-curve"
	default:
		return nil
	}
	return certbotErrorf("Unable to change the %s of this certificate because --reuse-key is set. "+
		"To stop reusing the private key, specify --no-reuse-key. "+
		"To change the private key this one time and then reuse it in future, add --new-key.", flag)
}
