package app

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// checkEmbedding warns when FRAME_ANCESTORS is set but the app is not served over https:
// the framed app's cookies are Secure, SameSite=None and Partitioned, which browsers keep
// only from https pages, so sign-in inside the iframe cannot work.
func checkEmbedding(cfg config, log *slog.Logger) {
	if len(cfg.FrameAncestors) > 0 && !strings.HasPrefix(cfg.PublicURL, "https://") {
		log.Warn("FRAME_ANCESTORS is set but PUBLIC_URL is not https: sign-in inside an iframe needs https",
			"public_url", cfg.PublicURL)
	}
}

// selfTransport is the HTTP transport the app uses to reach its embedded simulator over TLS
// (demo mode with TLS_CERT): the simulator is on the app's own listener, dialled by IP
// address, so the transport trusts the certificate the app serves (besides the system
// roots) and checks it against PUBLIC_URL's host name.
func selfTransport(cfg config) (*http.Transport, error) {
	pem, err := os.ReadFile(cfg.TLSCert)
	if err != nil {
		return nil, fmt.Errorf("reading TLS_CERT: %w", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, errors.New("TLS_CERT holds no PEM certificate")
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	return tr, nil
}
