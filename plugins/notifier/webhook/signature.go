package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Signature headers. A receiver verifies a delivery by recomputing
// HMAC-SHA256 over "<X-Certctl-Timestamp>.<raw body>" with the shared
// secret, comparing it in constant time with the hex digest after
// "sha256=" in X-Certctl-Signature, and rejecting timestamps more than a
// few minutes from its own clock (replays). docs/connectors-notifiers.md
// has a complete example.
const (
	headerSignature = "X-Certctl-Signature"
	headerTimestamp = "X-Certctl-Timestamp"
	signaturePrefix = "sha256="
)

// sign returns the X-Certctl-Timestamp and X-Certctl-Signature values for
// body sent at t.
func sign(secret string, t time.Time, body []byte) (timestamp, signature string) {
	timestamp = strconv.FormatInt(t.Unix(), 10)
	return timestamp, signaturePrefix + hex.EncodeToString(mac(secret, timestamp, body))
}

// verify is what a receiver does; the tests use it on what the plugin sent.
func verify(secret, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) bool {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return false
	}
	got, err := hex.DecodeString(strings.TrimPrefix(signature, signaturePrefix))
	if err != nil || !strings.HasPrefix(signature, signaturePrefix) {
		return false
	}
	return hmac.Equal(got, mac(secret, timestamp, body))
}

func mac(secret, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}
