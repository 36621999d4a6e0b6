package sim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync/atomic"
	"time"
)

// certAuthority is a throw-away CA that issues one small certificate per simulated DC (a single
// certificate naming every DC would make each TLS handshake parse hundreds of names).
type certAuthority struct {
	cert   *x509.Certificate
	der    []byte
	key    *ecdsa.PrivateKey
	leaf   *ecdsa.PrivateKey // shared by the DC certificates
	pool   *x509.CertPool
	serial atomic.Int64
}

func newCA() (*certAuthority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leaf, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "fix8524 simulated forest CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	ca := &certAuthority{cert: cert, der: der, key: key, leaf: leaf, pool: x509.NewCertPool()}
	ca.pool.AddCert(cert)
	ca.serial.Store(1)
	return ca, nil
}

// serverConfig issues a certificate for hosts and returns a server TLS configuration.
func (ca *certAuthority) serverConfig(hosts ...string) (*tls.Config, error) {
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(ca.serial.Add(1)),
		Subject:      pkix.Name{CommonName: "simulated DC"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	seen := map[string]bool{}
	for _, h := range hosts {
		if h != "" && !seen[h] {
			seen[h] = true
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &ca.leaf.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der, ca.der}, PrivateKey: ca.leaf}},
		MinVersion:   tls.VersionTLS12,
		// Classical ECDHE, as DCs negotiate it (Schannel offers no hybrid post-quantum group):
		// the client still offers X25519MLKEM768 first and verifies the certificate chain and
		// the handshake signature as always; the simulated server just does not pick the hybrid
		// group, whose encapsulation and decapsulation were a tenth of the handshake CPU.
		CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256},
	}, nil
}
