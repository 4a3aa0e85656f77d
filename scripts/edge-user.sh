#!/usr/bin/env bash
# Manages Basic-auth users of the CloudFront edge (docs/edge.md).
#
#   scripts/edge-user.sh entry USERNAME            print the config entry for edge.auth.users
#   scripts/edge-user.sh put STORE USERNAME        add or rotate the user in the KeyValueStore now (no redeploy)
#   scripts/edge-user.sh delete STORE USERNAME     remove the user from the KeyValueStore now
#   scripts/edge-user.sh rotate-sessions STORE     new session-cookie key: every browser session ends
#
# STORE is the KeyValueStore name or ARN (`terraform output auth_key_value_store_name`
# of the edge stack; by default <name>-<environment>-edge-auth).
# The password is read from stdin (one line), prompted for on a terminal, or
# made up with --generate (24 random characters, printed once on stderr). It
# never appears on the command line. The stored value is the hex SHA-256 of
# "<username>:<password>", the same as edge.auth.users[].passwordSha256.
set -euo pipefail

readonly MIN_PASSWORD_LENGTH=12
readonly KEY_PREFIX='user:'
readonly SESSION_SECRET_KEY='session:secret'

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

fail() {
  echo "edge-user: $*" >&2
  exit 2
}

sha256_hex() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 | cut -d' ' -f1
  else
    openssl dgst -sha256 -r | cut -d' ' -f1
  fi
}

random_token() {
  # $1 random bytes, URL-safe base64 without padding.
  head -c "$1" /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'
}

check_username() {
  # Same rule as the config schema and the edge function (no ':' so the split is unambiguous).
  [[ "$1" =~ ^[A-Za-z0-9._@-]{1,64}$ ]] || fail "username must be 1-64 characters of letters, digits, . _ @ -, got '$1'"
}

read_password() {
  local password confirmation
  if [[ "$generate" == true ]]; then
    # 18 random bytes -> 24 URL-safe characters (144 bits): safe with a fast hash.
    password="$(random_token 18)"
    echo "Generated password for $username (shown once): $password" >&2
  elif [[ -t 0 ]]; then
    read -r -s -p "Password for $username: " password
    echo >&2
    read -r -s -p "Repeat: " confirmation
    echo >&2
    [[ "$password" == "$confirmation" ]] || fail "the passwords differ"
  else
    IFS= read -r password || [[ -n "$password" ]] || fail "no password on stdin"
  fi
  # Hashes are fast (CloudFront Functions have a sub-millisecond budget), so strength must come from length.
  ((${#password} >= MIN_PASSWORD_LENGTH)) || fail "password must be at least $MIN_PASSWORD_LENGTH characters (--generate makes a strong one)"
  printf '%s' "$password"
}

store_arn() {
  if [[ "$1" == arn:* ]]; then
    printf '%s' "$1"
  else
    aws cloudfront describe-key-value-store --name "$1" --query 'KeyValueStore.ARN' --output text
  fi
}

# The data-plane ETag (not the control-plane one) guards every key write.
store_etag() {
  aws cloudfront-keyvaluestore describe-key-value-store --kvs-arn "$1" --query 'ETag' --output text
}

print_entry() {
  printf -- '- username: %s\n  passwordSha256: %s\n' "$1" "$2"
}

generate=false
args=()
for arg in "$@"; do
  case "$arg" in
    --generate) generate=true ;;
    -h | --help) usage ;;
    -*) fail "unknown option $arg" ;;
    *) args+=("$arg") ;;
  esac
done
((${#args[@]} >= 2)) || usage
command="${args[0]}"

case "$command" in
  entry)
    ((${#args[@]} == 2)) || usage
    username="${args[1]}"
    check_username "$username"
    password="$(read_password)"
    hash="$(printf '%s:%s' "$username" "$password" | sha256_hex)"
    print_entry "$username" "$hash"
    echo "Add the entry above to edge.auth.users and apply the edge stack, or run: $0 put <store> $username" >&2
    ;;
  put)
    ((${#args[@]} == 3)) || usage
    store="${args[1]}"
    username="${args[2]}"
    check_username "$username"
    password="$(read_password)"
    hash="$(printf '%s:%s' "$username" "$password" | sha256_hex)"
    arn="$(store_arn "$store")"
    etag="$(store_etag "$arn")"
    aws cloudfront-keyvaluestore put-key --kvs-arn "$arn" --key "$KEY_PREFIX$username" --value "$hash" --if-match "$etag" >/dev/null
    print_entry "$username" "$hash"
    echo "Stored $KEY_PREFIX$username in $arn (live at the edge within seconds)." >&2
    echo "If $username is also in edge.auth.users, put the entry above there too, or the next apply restores the old hash." >&2
    ;;
  delete)
    ((${#args[@]} == 3)) || usage
    store="${args[1]}"
    username="${args[2]}"
    check_username "$username"
    arn="$(store_arn "$store")"
    etag="$(store_etag "$arn")"
    aws cloudfront-keyvaluestore delete-key --kvs-arn "$arn" --key "$KEY_PREFIX$username" --if-match "$etag" >/dev/null
    echo "Deleted $KEY_PREFIX$username from $arn. Remove $username from edge.auth.users too, or the next apply adds it back." >&2
    ;;
  rotate-sessions)
    ((${#args[@]} == 2)) || usage
    arn="$(store_arn "${args[1]}")"
    etag="$(store_etag "$arn")"
    aws cloudfront-keyvaluestore put-key --kvs-arn "$arn" --key "$SESSION_SECRET_KEY" --value "$(random_token 48)" --if-match "$etag" >/dev/null
    echo "Replaced $SESSION_SECRET_KEY in $arn: browsers sign in again (Basic prompt or cached credentials) on their next page load." >&2
    ;;
  *)
    usage
    ;;
esac
