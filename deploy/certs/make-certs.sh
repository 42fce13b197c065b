#!/usr/bin/env bash
# The compose stacks' TLS certificates, made once by the operator (never the images' demo ones):
# a CA, and one certificate per OpenSearch node named by its compose host name. The services and
# Dashboards verify OpenSearch against root-ca.pem.
#
#   deploy/certs/make-certs.sh [NODE...]   # default: opensearch opensearch-1 opensearch-2 opensearch-3
#
# Files (git-ignored) beside this script: root-ca.pem root-ca.key, <node>.pem <node>.key (PKCS#8).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
NODES=("${@:-opensearch opensearch-1 opensearch-2 opensearch-3}")
read -r -a NODES <<<"${NODES[*]}"
DAYS=825
umask 077

if [[ ! -f root-ca.pem ]]; then
  openssl req -x509 -newkey rsa:3072 -nodes -days "$DAYS" -sha256 \
    -subj "/O=newsflow/CN=newsflow root CA" -keyout root-ca.key -out root-ca.pem 2>/dev/null
fi
for node in "${NODES[@]}"; do
  [[ -f "$node.pem" ]] && continue
  openssl req -newkey rsa:3072 -nodes -sha256 -subj "/O=newsflow/CN=$node" \
    -keyout "$node.rsa.key" -out "$node.csr" 2>/dev/null
  # OpenSearch reads PKCS#8 keys only.
  openssl pkcs8 -topk8 -nocrypt -in "$node.rsa.key" -out "$node.key"
  printf 'subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' "$node" >"$node.ext"
  openssl x509 -req -in "$node.csr" -CA root-ca.pem -CAkey root-ca.key -CAcreateserial -days "$DAYS" -sha256 \
    -extfile "$node.ext" -out "$node.pem" 2>/dev/null
  rm -f "$node.csr" "$node.ext" "$node.rsa.key"
done
chmod 644 ./*.pem ./*.key  # read by the containers' own users
echo "certificates in $(pwd): root-ca.pem and ${NODES[*]}"
