#!/bin/sh
# openssl-ca.sh: a small CA run with OpenSSL, for certctl's script issuer.
#   openssl-ca.sh init    make the CA in $CA_DIR (once, by hand)
#   openssl-ca.sh issue   sign the CSR on stdin (certctl's command)
#   openssl-ca.sh revoke  revoke the certificate on stdin (certctl's revoke_command)
set -eu
set -f # names such as *.example.com must not match files
: "${CA_DIR:?set CA_DIR to the CA directory}"
umask 077
conf="$CA_DIR/openssl.cnf"

if [ "${1:-}" = init ]; then
  mkdir -p "$CA_DIR/newcerts"
  touch "$CA_DIR/index.txt"
  cat >"$conf" <<EOF
[ ca ]
default_ca      = certctl_ca
[ certctl_ca ]
dir             = $CA_DIR
database        = \$dir/index.txt
unique_subject  = no
new_certs_dir   = \$dir/newcerts
certificate     = \$dir/ca.pem
private_key     = \$dir/ca.key
serial          = \$dir/serial
rand_serial     = yes
default_md      = sha256
policy          = certctl_policy
copy_extensions = none
[ certctl_policy ]
commonName      = optional
EOF
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$CA_DIR/ca.key" -out "$CA_DIR/ca.pem" -days 3650 -subj "/CN=Example OpenSSL CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>&1
  exit 0
fi

# One signing or revocation at a time: openssl ca keeps its database in files.
exec 9>"$CA_DIR/lock"
flock 9
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/in.pem"

case "${1:-}" in
issue)
  # The names come from certctl's request, not from the CSR.
  sans=""
  for n in $(echo "$CERTCTL_DNS_NAMES" | tr ',' ' '); do sans="$sans,DNS:$n"; done
  for n in $(echo "$CERTCTL_IP_ADDRESSES" | tr ',' ' '); do sans="$sans,IP:$n"; done
  {
    echo "basicConstraints = critical,CA:FALSE"
    echo "keyUsage = critical,digitalSignature"
    echo "extendedKeyUsage = serverAuth,clientAuth"
    echo "subjectKeyIdentifier = hash"
    echo "authorityKeyIdentifier = keyid"
    if [ -n "$sans" ]; then echo "subjectAltName = ${sans#,}"; fi
  } >"$tmp/ext.cnf"
  days=$(( (CERTCTL_VALIDITY_SECONDS + 86399) / 86400 ))
  # openssl's chatter goes to stderr: stdout carries the certificates only.
  openssl ca -batch -config "$conf" -notext -days "$days" -in "$tmp/in.pem" \
    -extfile "$tmp/ext.cnf" -out "$tmp/cert.pem" >&2
  cat "$tmp/cert.pem" "$CA_DIR/ca.pem"
  ;;
revoke)
  serial=$(openssl x509 -noout -serial -in "$tmp/in.pem" | cut -d= -f2)
  # certctl may repeat a revocation that succeeded: already revoked is done.
  if awk -F '\t' -v s="$serial" '$1 == "R" && $4 == s { found = 1 } END { exit !found }' "$CA_DIR/index.txt"; then
    exit 0
  fi
  case "$CERTCTL_REVOCATION_REASON_NAME" in
  privilegeWithdrawn | aACompromise) reason=unspecified ;; # names openssl ca does not know
  *) reason=$CERTCTL_REVOCATION_REASON_NAME ;;
  esac
  openssl ca -batch -config "$conf" -revoke "$tmp/in.pem" -crl_reason "$reason" >&2
  ;;
*)
  echo "usage: $0 init|issue|revoke" >&2
  exit 64
  ;;
esac
