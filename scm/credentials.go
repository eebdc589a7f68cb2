package scm

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
)

// Credentials are the settings of one SCM connection, as a credentials file
// holds them. Empty fields are unset.
type Credentials struct {
	URL         string // REST base; empty means DefaultBaseURL
	Login       string
	CustomerURI string
	Password    Secret
	// ClientCert and ClientKey are PEM files for client-certificate
	// authentication (no password is sent then).
	ClientCert, ClientKey string
	// CABundle is a PEM file of extra CA certificates to trust.
	CABundle string
}

// credentialKeys maps a credentials file key, lower-cased with "-" and "_"
// removed, to the field it sets.
func (c *Credentials) credentialKeys() map[string]func(string) {
	str := func(dst *string) func(string) { return func(v string) { *dst = v } }
	return map[string]func(string){
		"login":       str(&c.Login),
		"password":    func(v string) { c.Password = Secret(v) },
		"customeruri": str(&c.CustomerURI),
		"url":         str(&c.URL), "scmurl": str(&c.URL), "baseurl": str(&c.URL),
		"clientcert": str(&c.ClientCert),
		"clientkey":  str(&c.ClientKey),
		"cabundle":   str(&c.CABundle),
	}
}

// ReadCredentialsFile reads a credentials file of "key = value" lines (#
// and ; start comments) with the keys login, password, customer_uri, url,
// client_cert, client_key and ca_bundle ("-" or "_" optional, any case). A
// file other users can access, a line without "=" and an unknown key are
// *InputErrors.
func ReadCredentialsFile(path string) (Credentials, error) {
	var c Credentials
	data, err := ReadPrivateFile(path, "credentials file")
	if err != nil {
		return c, err
	}
	keys := c.credentialKeys()
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return c, inputErrorf("credentials file %s line %d: want key = value", path, n)
		}
		set, ok := keys[strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(strings.TrimSpace(k)))]
		if !ok {
			return c, inputErrorf("credentials file %s line %d: unknown key %q (want login, password, customer_uri, url, client_cert, client_key, ca_bundle)", path, n, strings.TrimSpace(k))
		}
		set(strings.TrimSpace(v))
	}
	return c, nil
}

// ReadPrivateFile reads a file holding a secret (what names it in errors).
// A file other users can access is refused with an *InputError saying how
// to fix it.
func ReadPrivateFile(path, what string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if fi.Mode().Perm()&0o007 != 0 {
		return nil, inputErrorf("%s %s is accessible by other users (mode %04o); run: chmod 600 %s", what, path, fi.Mode().Perm(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return data, nil
}

// TLSConfig is the TLS configuration of c: the system roots plus CABundle,
// and the client certificate when ClientCert and ClientKey are set (the key
// file must not be accessible by other users; keyFlag names it in that
// error).
func (c Credentials) TLSConfig(keyFlag string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CABundle != "" {
		pem, err := os.ReadFile(c.CABundle)
		if err != nil {
			return nil, fmt.Errorf("read SCM CA bundle: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, inputErrorf("SCM CA bundle %s holds no PEM certificate", c.CABundle)
		}
		cfg.RootCAs = pool
	}
	if c.ClientCert == "" || c.ClientKey == "" {
		return cfg, nil
	}
	if _, err := ReadPrivateFile(c.ClientKey, keyFlag); err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(c.ClientCert, c.ClientKey)
	if err != nil {
		return nil, fmt.Errorf("load SCM client certificate %s: %w", c.ClientCert, err)
	}
	cfg.Certificates = []tls.Certificate{cert}
	return cfg, nil
}
