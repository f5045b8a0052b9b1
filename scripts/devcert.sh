#!/bin/sh
# Makes a development CA and an ECDSA server certificate for localhost in DIR
# (once; kept until deleted). Never commit these: the keys are throw-away.
# Usage: scripts/devcert.sh DIR [extra subjectAltName entries]
set -eu
dir=${1:?usage: devcert.sh DIR}
[ -f "$dir/server.crt" ] && [ -f "$dir/server.key" ] && exit 0
mkdir -p "$dir"
cd "$dir"
umask 077
san="DNS:localhost,IP:127.0.0.1,IP:::1${2:+,$2}"
openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
openssl req -x509 -new -key ca.key -sha256 -days 30 -subj "/CN=ssedge dev CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.crt
openssl ecparam -name prime256v1 -genkey -noout -out server.key 2>/dev/null
openssl req -new -key server.key -subj "/CN=localhost" -out server.csr
printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' \
    "$san" > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
    -sha256 -extfile server.ext -out server.crt 2>/dev/null
rm -f server.csr server.ext ca.srl
echo "devcert: $dir/server.crt (CA: $dir/ca.crt, valid 30 days)"
