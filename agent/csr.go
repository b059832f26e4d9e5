package agent

import (
	"crypto"
	"encoding/pem"

	"github.com/certctl/certctl/sdk/keys"
)

// newCSR makes a PEM CSR for the certificate's names, signed by key.
func newCSR(commonName string, sans []string, key crypto.Signer) ([]byte, error) {
	der, err := keys.CSR(commonName, sans, key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// keyTypeMatches says whether key is of the certificate key type.
func keyTypeMatches(key crypto.Signer, keyType string) bool {
	return keys.TypeOf(key.Public()) == keyType
}
